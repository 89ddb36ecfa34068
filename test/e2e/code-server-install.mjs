// Installs code-server (a real VS Code served to a browser) into .vscode-test/code-server-<version> on first use,
// one folder per VS Code version the integration tests run on:
//   1.100.3  code-server 4.100.3: our minimum engines.vscode; runs on Node 20
//   1.139.1  code-server 4.139.1: the current release; needs Node 24, installed from the npm registry as the
//            node-<platform>-<arch> package into .vscode-test/node-<version> (binary and headers, so native
//            modules build offline against it)
// Offline-safe: code-server's install scripts would download ripgrep from GitHub, so they are skipped and the
// steps are done here (1.100.3 gets Debian's ripgrep as its search binary; 1.139 bundles ripgrep itself).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export const VSCODE_VERSIONS = {
  '1.100.3': { codeServer: '4.100.3', nodeMajor: 20, nodePackage: '20.20.2', ripgrep: 'debian' },
  '1.139.1': { codeServer: '4.139.1', nodeMajor: 24, nodePackage: '24.21.0', ripgrep: 'bundled' },
};
/** engines.vscode's minimum and the current release: `npm test` runs the suites in both. */
export const MINIMUM_VSCODE = '1.100.3';
export const CURRENT_VSCODE = '1.139.1';

function run(command, args, cwd, env = process.env) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env });
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

/** The folder whose include/node holds the headers of the Node at `nodeBinary` (prefix/bin/node), if any. */
function headersFor(nodeBinary) {
  const prefix = dirname(dirname(nodeBinary));
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) return prefix;
  return undefined;
}

/**
 * A Node of the wanted major version: this one when it matches, else the registry's node-<platform>-<arch>
 * package (installed once into .vscode-test/node-<version>). Returns the binary's path.
 */
export function ensureNode(repoRoot, major, packageVersion) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const prefix = join(repoRoot, '.vscode-test', `node-${packageVersion}`);
  const name = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const binary = join(prefix, 'node_modules', name, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(binary)) return binary;
  console.log(`Installing Node ${packageVersion} (${name} from the npm registry) into ${prefix}…`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  run(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `${name}@${packageVersion}`],
    repoRoot,
  );
  if (!existsSync(binary)) throw new Error(`${name}@${packageVersion} has no ${binary}`);
  return binary;
}

/**
 * Returns { packageDir, node, codeServerVersion, vscodeVersion } for the VS Code version, installing code-server
 * (and its Node) first when missing. `packageDir` holds out/node/entry.js; start it with `node`.
 */
export function ensureCodeServer(repoRoot, vscodeVersion = MINIMUM_VSCODE) {
  const spec = VSCODE_VERSIONS[vscodeVersion];
  if (!spec) throw new Error(`no code-server known for VS Code ${vscodeVersion} (known: ${Object.keys(VSCODE_VERSIONS).join(', ')})`);
  const node = ensureNode(repoRoot, spec.nodeMajor, spec.nodePackage);
  const prefix = join(repoRoot, '.vscode-test', `code-server-${spec.codeServer}`);
  const packageDir = join(prefix, 'node_modules', 'code-server');
  const done = join(prefix, `.installed-${spec.codeServer}`);
  const result = { packageDir, node, codeServerVersion: spec.codeServer, vscodeVersion };
  // Earlier runs installed 4.100.3 into .vscode-test/code-server: keep that install instead of repeating it.
  const legacy = join(repoRoot, '.vscode-test', 'code-server');
  if (!existsSync(done) && existsSync(join(legacy, `.installed-${spec.codeServer}`))) {
    rmSync(prefix, { recursive: true, force: true });
    renameSync(legacy, prefix);
  }
  if (existsSync(join(packageDir, 'out', 'node', 'entry.js')) && existsSync(done)) return result;

  const what = `code-server ${spec.codeServer} (VS Code ${vscodeVersion}, Node ${spec.nodeMajor})`;
  console.log(`Installing ${what} into ${prefix} (first run only, a few minutes)…`);
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  // Everything runs on the Node code-server will run on; native modules compile against that Node's headers
  // (Debian's nodejs and the registry's node packages ship them) instead of downloading them.
  const nodeDir = headersFor(node);
  const env = {
    ...process.env,
    PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
    ...(nodeDir ? { npm_config_nodedir: nodeDir } : {}),
  };
  const npmFlags = ['--no-audit', '--no-fund', '--ignore-scripts'];
  run('npm', ['install', '--prefix', prefix, '--no-save', ...npmFlags, `code-server@${spec.codeServer}`], repoRoot, env);
  run('npm', ['rebuild', 'argon2'], prefix, env);

  const vscodeDir = join(packageDir, 'lib', 'vscode');
  run('npm', ['install', '--omit=dev', ...npmFlags], vscodeDir, env);
  if (spec.ripgrep === 'debian') {
    // @vscode/ripgrep's postinstall skips the GitHub download when bin/ exists.
    const ripgrepBin = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
    mkdirSync(ripgrepBin, { recursive: true });
    if (existsSync('/usr/bin/rg')) relink('/usr/bin/rg', join(ripgrepBin, 'rg'));
    else console.warn('  /usr/bin/rg not found (Debian package ripgrep): search inside the test VS Code will not work.');
  }
  // kerberos needs Debian's libkrb5-dev; node-pty's post-install calls `npx node-gyp`, hence npm_config_yes.
  run('npm', ['rebuild'], vscodeDir, { ...env, npm_config_yes: 'true' });
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund'], join(vscodeDir, 'extensions'), env);
  // What code-server's own postinstall.sh does after its npm installs.
  if (spec.codeServer === '4.100.3') relink('node_modules', join(vscodeDir, 'node_modules.asar'));
  relink('code-linux.sh', join(vscodeDir, 'bin', 'remote-cli', 'code-server'));
  relink('browser-linux.sh', join(vscodeDir, 'bin', 'helpers', 'browser.sh'));

  writeFileSync(done, new Date().toISOString());
  return result;
}
