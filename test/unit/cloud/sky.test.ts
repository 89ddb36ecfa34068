import * as assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSky, managedSkyPath, planSkyEnvironment, runSky, skyArgs, skyRequirement } from '../../../src/core/cloud/sky';
import { processGroupAlive } from '../../../src/core/trainer/kill-tree';
import { STANDIN } from './helpers';

/** An executable named `sky` in a folder (a shell script is enough to be found). */
function fakeSky(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'sky');
  writeFileSync(path, '#!/bin/sh\necho "skypilot, version 0.14.1"\n');
  chmodSync(path, 0o755);
  return path;
}

describe('findSky', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vin-ocr-find-sky-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the setting only when it is the user’s own in a trusted workspace', async () => {
    const setting = fakeSky(join(dir, 'setting'));
    const onPath = fakeSky(join(dir, 'path'));
    const env = { PATH: join(dir, 'path') };
    assert.deepEqual(await findSky({ settingPath: setting, settingIsUserLevel: true, workspaceTrusted: true, env }), {
      path: setting,
      source: 'setting',
    });
    for (const [userLevel, trusted] of [
      [false, true],
      [true, false],
    ]) {
      const found = await findSky({ settingPath: setting, settingIsUserLevel: userLevel, workspaceTrusted: trusted, env });
      assert.deepEqual(found, { path: onPath, source: 'path' }, `userLevel ${userLevel}, trusted ${trusted}`);
    }
  });

  it('falls back from PATH to our managed environment, and reports the version when asked', async () => {
    const storage = join(dir, 'storage');
    assert.equal(await findSky({ env: { PATH: '' }, storageDir: storage }), undefined);
    fakeSky(join(storage, 'sky-env', 'bin'));
    const managed = await findSky({ env: { PATH: '' }, storageDir: storage, withVersion: true });
    assert.deepEqual(managed, { path: managedSkyPath(storage), source: 'managed-environment', version: '0.14.1' });
  });
});

describe('SkyPilot’s own environment', () => {
  it('pins the version of data/requirements.json, with the chosen clouds’ extras', () => {
    assert.equal(skyRequirement(), 'skypilot==0.14.1');
    assert.equal(skyRequirement(['aws', 'GCP', 'aws', 'bad extra!']), 'skypilot[aws,gcp]==0.14.1');
    const plan = planSkyEnvironment('/storage', { basePython: '/usr/bin/python3', extras: ['azure'], platform: 'linux' });
    assert.deepEqual(
      plan.steps.map((step) => [step.command, ...step.args].join(' ')),
      [
        '/usr/bin/python3 -m venv /storage/sky-env',
        '/storage/sky-env/bin/python -m pip install --upgrade pip',
        '/storage/sky-env/bin/python -m pip install skypilot[azure]==0.14.1',
      ],
    );
    assert.equal(plan.sky, '/storage/sky-env/bin/sky');
    assert.equal(planSkyEnvironment('/storage', { basePython: 'python3', venvExists: true }).steps.length, 2);
  });
});

describe('runSky', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vin-ocr-run-sky-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs sky with an argument array and streams its lines', async () => {
    const log = join(dir, 'argv.jsonl');
    const lines: string[] = [];
    const result = await runSky({ path: STANDIN }, skyArgs.down('it has spaces; $(touch x)'), {
      env: { ...process.env, SKY_STANDIN_LOG: log, SKY_STANDIN_SCENARIO: 'offline' },
      onLine: (line) => lines.push(line),
    });
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /Cluster\(s\) not found/);
    assert.deepEqual(lines, result.output.split('\n'));
    assert.deepEqual(JSON.parse(readFileSync(log, 'utf8')).argv, ['down', '-y', 'it has spaces; $(touch x)']);
  });

  it('reports a sky that cannot start', async () => {
    const result = await runSky({ path: join(dir, 'no-such-sky') }, ['status']);
    assert.match(result.spawnError ?? '', /ENOENT/);
  });

  it('interrupts on abort as Ctrl+C would, and leaves nothing running', async () => {
    const abort = new AbortController();
    let pid: number | undefined;
    const log = join(dir, 'argv.jsonl');
    const running = runSky({ path: STANDIN }, skyArgs.launch('/nowhere/task.yaml', 'vin-ocr-abort'), {
      env: { ...process.env, SKY_STANDIN_DELAY_MS: '200', SKY_STANDIN_LOG: log },
      signal: abort.signal,
      onLine: () => {
        pid ??= JSON.parse(readFileSync(log, 'utf8')).pid as number;
        abort.abort();
      },
    });
    const result = await running;
    assert.equal(result.aborted, true);
    assert.match(result.output, /sky api cancel 1a2b3c4d/);
    assert.ok(pid !== undefined && !processGroupAlive(pid), 'the stand-in is gone');
  });
});
