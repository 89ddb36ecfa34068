# Shared by the scripts that give a tool its own virtual environment (setup-paddle.sh, setup-deepseek.sh,
# setup-sky.sh): each is idempotent through a stamp file that records what was installed, so a second run
# with nothing changed takes under a second. Sourced, not run.

# venv_is_current VENV STAMP WANTED [PROGRAM]: the stamp says WANTED and VENV/bin/PROGRAM (python) exists.
venv_is_current() {
  [ "$(cat "$2" 2>/dev/null)" = "$3" ] && [ -x "$1/bin/${4:-python}" ]
}

# venv_create PYTHON VENV LABEL: creates VENV with PYTHON unless it has an interpreter already.
venv_create() {
  if [ ! -x "$2/bin/python" ]; then
    echo "Creating $3's environment in $2"
    "$1" -m venv "$2"
  fi
}

# venv_pip_install VENV SCRIPT WHAT PIP_ARGS…: pip install into VENV, or says what SCRIPT could not install and fails.
venv_pip_install() {
  local venv=$1 script=$2 what=$3
  shift 3
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; then
    echo "$script: could not install $what (no network or no package index?). See pip's message above." >&2
    return 1
  fi
}
