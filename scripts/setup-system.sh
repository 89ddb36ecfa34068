#!/usr/bin/env bash
# The system packages `npm test` needs, installed when missing (the first step of `npm test`).
# A second run with everything present installs nothing and takes well under a second.
#
#   chromium             the browser that drives code-server (a real VS Code) in the integration tests
#   libkrb5-dev          code-server's install compiles the kerberos module against gssapi/gssapi.h
#   ripgrep              search inside the test VS Code 1.100.3 (1.139 bundles its own)
#   g++ make             node-gyp builds code-server's native modules
#   python3-venv         the trainer's .venv (scripts/setup-python.sh)
#   fonts-*              more typefaces for the synthetic VIN renderer (it also works with none of them)
#
# Debian and Ubuntu only (apt-get), as root or through sudo without a password prompt; otherwise it stops
# at once and prints the one command to run. VIN_OCR_SKIP_SYSTEM_SETUP=1 skips it (other systems: install
# the equivalents yourself and set VIN_OCR_CHROMIUM to the browser).
set -euo pipefail

if [ "${VIN_OCR_SKIP_SYSTEM_SETUP:-}" = "1" ]; then
  echo "setup-system: skipped (VIN_OCR_SKIP_SYSTEM_SETUP=1)"
  exit 0
fi

packages=(
  chromium libkrb5-dev ripgrep g++ make python3-venv
  fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-noto-mono fonts-urw-base35 fonts-droid-fallback
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-system: this is not a Debian-like system (no dpkg/apt-get). The tests need: Chromium (set VIN_OCR_CHROMIUM" >&2
  echo "  to its binary unless it is /usr/bin/chromium), the Kerberos development headers (gssapi/gssapi.h), ripgrep," >&2
  echo "  a C++ compiler and make, Python 3.9+ with venv. Install them, then run with VIN_OCR_SKIP_SYSTEM_SETUP=1." >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

install_command="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "setup-system: the tests need Debian packages that are missing: ${missing[*]}" >&2
  echo "  This user cannot install them (not root, and no sudo without a password). Run this once, then npm test again:" >&2
  echo "" >&2
  echo "  sudo sh -c '$install_command'" >&2
  exit 1
fi

echo "setup-system: installing ${missing[*]}"
started=$SECONDS
# Another apt-get on the machine holds the lock for a while: wait for it instead of failing.
apt_options=(-o DPkg::Lock::Timeout=300 -qq)
"${as_root[@]}" apt-get "${apt_options[@]}" update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-system: installed in $((SECONDS - started)) s"
