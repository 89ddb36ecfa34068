import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkInterpreter, findOnPath, resolveInterpreter } from '../../../src/core/interpreter/resolve';

/** A fake executable: a shell script standing in for a broken or foreign "python". */
function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('interpreter resolution', function () {
  this.timeout(30_000);
  let root: string;
  let realPython: string;
  /** An empty PATH, so this machine's own python3 never leaks into a test. */
  let emptyEnv: NodeJS.ProcessEnv;

  before(function () {
    if (process.platform === 'win32') this.skip(); // the fakes are shell scripts
    // The real interpreter binary behind python3 (not a pyenv shim), so symlinks to it behave like a real install.
    realPython = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    root = mkdtempSync(path.join(tmpdir(), 'vin-ocr-interpreter-'));
    mkdirSync(path.join(root, 'empty'));
    emptyEnv = { PATH: path.join(root, 'empty'), HOME: root };
  });

  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  function workspaceWithVenv(name: string): string {
    const folder = path.join(root, name);
    mkdirSync(path.join(folder, '.venv', 'bin'), { recursive: true });
    symlinkSync(realPython, path.join(folder, '.venv', 'bin', 'python'));
    return folder;
  }

  it('takes the vinOcr.pythonPath setting first when it runs', async () => {
    const chosen = await resolveInterpreter({
      setting: realPython,
      pythonExtension: '/elsewhere/python',
      workspaceFolders: [],
      env: emptyEnv,
    });
    assert.equal(chosen?.source, 'setting');
    assert.equal(chosen?.path, realPython);
    assert.match(chosen?.reason ?? '', /\(Python 3\.\d+\.\d+\), set in vinOcr\.pythonPath\.$/);
  });

  it('skips a setting that does not run and says why', async () => {
    const chosen = await resolveInterpreter({
      setting: '/nope/bin/python',
      pythonExtension: realPython,
      workspaceFolders: [],
      env: emptyEnv,
    });
    assert.equal(chosen?.source, 'python-extension');
    assert.match(
      chosen?.reason ?? '',
      /selected in the Python extension\. Skipped: vinOcr\.pythonPath "\/nope\/bin\/python": \/nope\/bin\/python not found\.$/,
    );
  });

  it("uses a workspace's .venv when neither the setting nor the Python extension names one", async () => {
    const folder = workspaceWithVenv('project-with-venv');
    const chosen = await resolveInterpreter({ workspaceFolders: [path.join(root, 'empty'), folder], env: emptyEnv });
    assert.equal(chosen?.source, 'workspace-venv');
    assert.equal(chosen?.path, path.join(folder, '.venv', 'bin', 'python'));
  });

  it('falls back to python3 on PATH', async () => {
    const bin = path.join(root, 'path-bin');
    mkdirSync(bin);
    symlinkSync(realPython, path.join(bin, 'python3'));
    const chosen = await resolveInterpreter({ workspaceFolders: [], env: { PATH: bin } });
    assert.equal(chosen?.source, 'path');
    assert.equal(chosen?.path, path.join(bin, 'python3'));
    assert.match(chosen?.reason ?? '', /found on PATH/);
  });

  it('answers undefined when nothing runs', async () => {
    assert.equal(await resolveInterpreter({ workspaceFolders: [], env: emptyEnv }), undefined);
  });

  describe('a candidate must really be Python 3.9 or newer', () => {
    let fakes: string;
    before(() => {
      fakes = path.join(root, 'fakes');
      mkdirSync(fakes);
    });

    it('rejects Python 2', async () => {
      const python2 = script(fakes, 'python2', 'echo /usr/bin/python2.7; echo 2.7.18');
      assert.deepEqual(await checkInterpreter(python2), { ok: false, error: 'Python 2.7.18 is too old (the trainer needs 3.9 or newer)' });
    });

    it('rejects a program that is not Python', async () => {
      const impostor = script(fakes, 'not-python', 'echo "Microsoft Store: get Python here"');
      const check = await checkInterpreter(impostor);
      assert.equal(check.ok, false);
      assert.match(!check.ok ? check.error : '', /does not answer like Python/);
    });

    it('rejects one that exits with an error', async () => {
      const broken = script(fakes, 'broken', 'echo "error while loading shared libraries: libpython3.11.so.1.0" >&2; exit 127');
      const check = await checkInterpreter(broken);
      assert.match(!check.ok ? check.error : '', /exit code 127: error while loading shared libraries/);
    });

    it('gives up on one that hangs, and moves on to the next candidate', async () => {
      const hang = script(fakes, 'hang', 'PATH=/usr/bin:/bin exec sleep 60');
      const started = performance.now();
      const chosen = await resolveInterpreter({
        setting: hang,
        pythonExtension: realPython,
        workspaceFolders: [],
        env: emptyEnv,
        timeoutMs: 300,
      });
      assert.ok(performance.now() - started < 3_000);
      assert.equal(chosen?.source, 'python-extension');
      assert.match(chosen?.reason ?? '', /timed out after 300 ms/);
    });

    it('rejects a directory and a file without the executable bit', async () => {
      const plain = path.join(fakes, 'plain');
      writeFileSync(plain, 'not executable');
      assert.equal((await checkInterpreter(plain)).ok, false);
      assert.equal(await findOnPath('plain', { PATH: fakes }), undefined);
      assert.equal(await findOnPath('fakes', { PATH: root }), undefined);
    });
  });

  describe('setting forms', () => {
    it('expands ${workspaceFolder} and resolves relative paths against the first folder', async () => {
      const folder = workspaceWithVenv('project-for-setting');
      for (const setting of ['${workspaceFolder}/.venv/bin/python', '.venv/bin/python', './.venv/bin/python']) {
        const chosen = await resolveInterpreter({ setting, workspaceFolders: [folder], env: emptyEnv });
        assert.equal(chosen?.source, 'setting', setting);
        assert.equal(chosen?.path, path.join(folder, '.venv', 'bin', 'python'), setting);
      }
    });

    it('expands ~ to the home folder', async () => {
      workspaceWithVenv('home-venv');
      const chosen = await resolveInterpreter({ setting: '~/home-venv/.venv/bin/python', workspaceFolders: [], env: emptyEnv });
      assert.equal(chosen?.path, path.join(root, 'home-venv', '.venv', 'bin', 'python'));
    });

    it('looks a bare command name up on PATH', async () => {
      const bin = path.join(root, 'named-bin');
      mkdirSync(bin);
      symlinkSync(realPython, path.join(bin, 'python3.11'));
      const chosen = await resolveInterpreter({ setting: 'python3.11', workspaceFolders: [], env: { PATH: bin } });
      assert.equal(chosen?.source, 'setting');
      assert.equal(chosen?.path, path.join(bin, 'python3.11'));
    });
  });
});
