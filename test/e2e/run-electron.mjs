// Desktop runner (needs internet on first use): downloads VS Code with @vscode/test-electron and runs the same
// integration suites as run-code-server.mjs. Not used on the CI machines here, which have no VS Code download.
//   node test/e2e/run-electron.mjs [--version 1.100.3|stable] [--grep PATTERN]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTests } from '@vscode/test-electron';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: options } = parseArgs({
  options: {
    // Our minimum engines.vscode by default; "stable" checks the newest release too.
    version: { type: 'string', default: '1.100.3' },
    grep: { type: 'string' },
  },
});

const build = spawnSync(process.execPath, ['esbuild.mjs', '--integration-tests'], { cwd: repoRoot, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

// The same set-up as run-code-server.mjs: the repo's .venv as the user's vinOcr.pythonPath (the suites fail loudly
// without it) and a fresh copy of the fixture workspace.
const setup = spawnSync('bash', [join(repoRoot, 'scripts', 'setup-python.sh')], { cwd: repoRoot, stdio: 'inherit' });
if (setup.status !== 0) process.exit(1);
const python = join(repoRoot, '.venv', 'bin', 'python');
const userDataDir = mkdtempSync(join(tmpdir(), 'vin-ocr-electron-'));
mkdirSync(join(userDataDir, 'User'), { recursive: true });
writeFileSync(
  join(userDataDir, 'User', 'settings.json'),
  JSON.stringify({ 'security.workspace.trust.enabled': false, 'vinOcr.pythonPath': python }, null, 2),
);
const workspace = join(userDataDir, 'workspace');
cpSync(join(repoRoot, 'test', 'fixtures', 'workspace'), workspace, {
  recursive: true,
  filter: (source) => !/[/\\](runs|\.vscode)$/.test(source),
});
try {
  await runTests({
    version: options.version,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: join(repoRoot, 'dist-test', 'integration', 'index.js'),
    launchArgs: [workspace, '--user-data-dir', userDataDir, '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    extensionTestsEnv: { VIN_OCR_TEST_PYTHON: python, ...(options.grep ? { VIN_OCR_TEST_GREP: options.grep } : {}) },
  });
} catch (error) {
  console.error(`integration tests failed: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  rmSync(userDataDir, { recursive: true, force: true });
}
