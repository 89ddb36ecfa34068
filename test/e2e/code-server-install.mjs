// Installs code-server@4.100.3 (VS Code 1.100.3, our minimum engines.vscode; runs on Node 20) into
// .vscode-test/code-server on first use. Offline-safe: its install scripts would download ripgrep from
// GitHub, so they are skipped and the steps are done here, with Debian's ripgrep as the search binary.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';

function run(command, args, cwd, extraEnv = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed with ${result.status ?? result.signal}:\n${output}`);
  }
  console.log(`  ${command} ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function relink(target, path) {
  rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}

/** Returns code-server's package folder (out/node/entry.js inside), installing it first when missing. */
export function ensureCodeServer(repoRoot) {
  const prefix = join(repoRoot, '.vscode-test', 'code-server');
  const packageDir = join(prefix, 'node_modules', 'code-server');
  const done = join(prefix, `.installed-${CODE_SERVER_VERSION}`);
  if (existsSync(join(packageDir, 'out', 'node', 'entry.js')) && existsSync(done)) return packageDir;

  console.log(`Installing code-server ${CODE_SERVER_VERSION} into ${prefix} (first run only, a few minutes)…`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  // Native modules compile against the local Node's headers (Debian's nodejs ships them) instead of downloading them.
  const nativeEnv = existsSync('/usr/include/node/common.gypi') ? { npm_config_nodedir: '/usr' } : {};
  const npmFlags = ['--no-audit', '--no-fund', '--ignore-scripts'];
  run('npm', ['install', '--prefix', prefix, '--no-save', ...npmFlags, `code-server@${CODE_SERVER_VERSION}`], repoRoot);
  run('npm', ['rebuild', 'argon2'], prefix, nativeEnv);

  const vscodeDir = join(packageDir, 'lib', 'vscode');
  run('npm', ['install', '--omit=dev', ...npmFlags], vscodeDir);
  // @vscode/ripgrep's postinstall skips the GitHub download when bin/ exists.
  const ripgrepBin = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(ripgrepBin, { recursive: true });
  if (existsSync('/usr/bin/rg')) relink('/usr/bin/rg', join(ripgrepBin, 'rg'));
  else console.warn('  /usr/bin/rg not found (Debian package ripgrep): search inside the test VS Code will not work.');
  // kerberos needs Debian's libkrb5-dev; node-pty's post-install calls `npx node-gyp`, hence npm_config_yes.
  run('npm', ['rebuild'], vscodeDir, { ...nativeEnv, npm_config_yes: 'true' });
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund'], join(vscodeDir, 'extensions'));
  // What code-server's own postinstall.sh does after its npm installs.
  relink('node_modules', join(vscodeDir, 'node_modules.asar'));
  relink('code-linux.sh', join(vscodeDir, 'bin', 'remote-cli', 'code-server'));
  relink('browser-linux.sh', join(vscodeDir, 'bin', 'helpers', 'browser.sh'));

  writeFileSync(done, new Date().toISOString());
  return packageDir;
}
