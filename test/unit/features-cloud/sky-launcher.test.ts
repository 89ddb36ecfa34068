import * as assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCloudRecord } from '../../../src/core/cloud/cloud-run';
import { planCloudRun } from '../../../src/core/cloud/plan';
import { runSky } from '../../../src/core/cloud/sky';
import { copyBackOverSsh, createSkyLauncher, type CopyBack, type SkyRunner } from '../../../src/core/cloud/sky-launcher';
import type { CloudPlanRequest, CloudPlanResult } from '../../../src/core/cloud/types';
import { RunManager } from '../../../src/core/trainer/run-manager';
import { readRun } from '../../../src/core/trainer/run-store';
import { fakePlan, fakeSky, QUOTA_FAILURE, REMOTE_RUN_DIR, successfulLaunch } from './fake-sky';

const CLUSTER = 'vin-ocr-test';
const TRAINER_DIR = resolve('trainer');

interface Setup {
  sky: SkyRunner;
  plan?: (request: CloudPlanRequest) => Promise<CloudPlanResult>;
  copyBack?: CopyBack;
  configPath?: string;
  nodes?: number;
}

/** A cloud run through the real run manager, as the Train on Cloud command starts it. */
function startCloudRun(setup: Setup) {
  const runDir = join(mkdtempSync(join(tmpdir(), 'vin-ocr-cloud-run-')), 'run-1');
  const launcher = createSkyLauncher({
    request: {
      configPath: setup.configPath ?? '/c.yaml',
      instance: 'g5.xlarge',
      clusterName: CLUSTER,
      trainerDir: TRAINER_DIR,
      nodes: setup.nodes,
    },
    plan: setup.plan ?? fakePlan(CLUSTER, setup.nodes),
    sky: setup.sky,
    runDir,
    runId: 'run-1',
    copyBack: setup.copyBack,
    writeIntervalMs: 10,
    cancelTimeoutMs: 5000,
  });
  const manager = new RunManager({ launcher, maxConcurrent: 1, notifyIntervalMs: 10 });
  const log: string[] = [];
  manager.subscribe({ log: (_run, line) => log.push(line) });
  const run = manager.start({ label: 'c.yaml on g5.xlarge', configPath: '/c.yaml', python: 'remote', args: [], launcher });
  return { run, runDir, manager, log };
}

describe('SkyPilot launcher (a cloud run through the run manager)', () => {
  it('streams the job’s events as the trainer’s, with the run folder, paths and price made local', async () => {
    const copies: string[][] = [];
    const { runner, calls } = fakeSky({ launch: { lines: successfulLaunch(3) } });
    const copyBack: CopyBack = async (cluster, remote, local) => {
      copies.push([cluster, remote, local]);
      return { status: 'copied' };
    };
    const { run, runDir, manager, log } = startCloudRun({ sky: runner, copyBack });
    const state = await run.done;
    assert.equal(state.status, 'completed');
    assert.equal(state.step, 3);
    assert.equal(state.device, 'cuda');
    assert.equal(state.runDir, runDir, 'the run is the local folder, so the Runs tree merges the live run with it');
    assert.equal(state.bestCheckpoint, join(runDir, 'checkpoints', 'best.pt'));
    assert.deepEqual(calls[0]!.slice(0, 4), ['launch', '-y', '-c', CLUSTER]);
    assert.deepEqual(copies, [[CLUSTER, REMOTE_RUN_DIR, runDir]]);
    assert.ok(log.includes('step 1/3 loss 2.1'), 'the trainer’s log line arrives without SkyPilot’s framing');
    assert.ok(
      log.some((line) => line.startsWith('setup: ')),
      'setup lines are named',
    );

    const record = await readCloudRecord(runDir);
    assert.equal(record?.state, 'succeeded');
    assert.equal(record?.jobId, 3);
    assert.equal(record?.remoteRunDir, REMOTE_RUN_DIR);
    assert.equal(record?.hourlyPrice, 1.01, 'the price SkyPilot printed for what it chose');
    assert.equal(record?.copyBack?.status, 'copied');

    const stored = await readRun(runDir, 'run-1');
    assert.equal(stored?.status, 'completed', 'events.jsonl on disk ends with the final event');
    assert.equal(stored?.cloud?.cluster, CLUSTER);
    assert.ok(readFileSync(join(runDir, 'train.log'), 'utf8').includes('Job submitted, ID: 3'));
    await manager.dispose();
  });

  it('marks a launch the cloud refused for quota failed with the reason and the fix, and leaves nothing running', async () => {
    const { runner } = fakeSky({ launch: { lines: QUOTA_FAILURE, exitCode: 1 } });
    const { run, runDir, manager } = startCloudRun({ sky: runner });
    const state = await run.done;
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'sky-quota');
    assert.match(state.errorMessage!, /quota/i);
    assert.match(state.hint!, /quota increase/);
    const stored = await readRun(runDir, 'run-1', { staleAfterMs: 0 });
    assert.equal(stored?.status, 'failed');
    assert.equal(stored?.errorCode, 'sky-quota', 'the run folder says why, for the Runs tree and later windows');
    const record = await readCloudRecord(runDir);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.problem?.code, 'sky-quota');
    assert.equal(record?.jobId, undefined);
    await manager.dispose();
  });

  it('cancel runs `sky cancel` for the job, ends the local sky, and records the run cancelled', async () => {
    const launchLines = successfulLaunch(1).slice(0, 15);
    const { runner, calls } = fakeSky({
      launch: { lines: launchLines, hang: true },
      cancel: { lines: ['Cancelling jobs (3) on cluster vin-ocr-test'] },
    });
    const { run, runDir, manager } = startCloudRun({ sky: runner });
    const deadline = Date.now() + 5000;
    while (run.state.step < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(run.state.step, 1, 'the job is running');
    run.cancel();
    const state = await run.done;
    assert.equal(state.status, 'cancelled');
    assert.deepEqual(
      calls.find((call) => call[0] === 'cancel'),
      ['cancel', '-y', CLUSTER, '3'],
    );
    const record = await readCloudRecord(runDir);
    assert.equal(record?.state, 'cancelled');
    assert.equal(record?.copyBack?.status, 'not-copied');
    assert.equal((await readRun(runDir, 'run-1', { staleAfterMs: 0 }))?.status, 'cancelled');
    await manager.dispose();
  });

  it('a dataset path that does not exist fails the run before anything is launched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vin-ocr-cloud-config-'));
    const config = join(dir, 'missing-data.yaml');
    const text = readFileSync('test/fixtures/workspace/training/tiny.yaml', 'utf8').replace(
      'train: synthetic',
      'train: no-such-folder/labels.txt',
    );
    writeFileSync(config, text);
    const { runner, calls } = fakeSky({});
    const { run, runDir, manager } = startCloudRun({ sky: runner, plan: planCloudRun, configPath: config });
    const state = await run.done;
    assert.equal(state.status, 'failed');
    assert.match(`${state.errorMessage} ${state.hint}`, /no-such-folder/);
    assert.ok(
      state.issues?.some((issue) => issue.startsWith(`${config}:`)),
      `the problem is at its line in the config, for the Problems panel: ${state.issues}`,
    );
    assert.equal(calls.length, 0, 'sky was never called');
    assert.equal((await readCloudRecord(runDir))?.state, 'failed');
    await manager.dispose();
  });

  it('without a sky that starts, the run fails with how to point at one', async () => {
    const { runner } = fakeSky({ launch: { lines: [], spawnError: 'spawn /nowhere/sky ENOENT' } });
    const { run, manager } = startCloudRun({ sky: runner });
    const state = await run.done;
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'sky-not-found');
    assert.match(state.hint!, /vinOcr\.cloud\.skyPath/);
    await manager.dispose();
  });

  it('a job that fails on the cluster without the trainer’s word is failed with how to read its log', async () => {
    const lines = [...successfulLaunch(1).slice(0, 13), '✗ Job finished (status: FAILED).'];
    const { runner } = fakeSky({ launch: { lines, exitCode: 100 } });
    const { run, manager } = startCloudRun({ sky: runner });
    const state = await run.done;
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'cloud-job-failed');
    assert.match(state.hint!, new RegExp(`sky logs ${CLUSTER} 3`));
    await manager.dispose();
  });

  it('takes events from the head node only on several nodes, and keeps the workers’ lines as named log lines', async () => {
    const head = successfulLaunch(2).map((line) => line.replace('(task, pid=4242)', '(head, rank=0, pid=4242)'));
    const worker =
      '(worker1, rank=1, pid=777, ip=10.0.0.2) {"event": "progress", "step": 99, "time": "2026-11-30T10:15:00Z", "run_id": "x"}';
    const lines = [...head.slice(0, 14), worker, ...head.slice(14)];
    const { runner } = fakeSky({ launch: { lines } });
    const { run, manager, log } = startCloudRun({ sky: runner, nodes: 2 });
    const state = await run.done;
    assert.equal(state.status, 'completed');
    assert.equal(state.step, 2, 'the worker’s progress is no event');
    assert.ok(log.some((line) => line.startsWith('worker1: ')));
    await manager.dispose();
  });

  it('copy-back trouble is reported and the run stays what it was', async () => {
    const { runner } = fakeSky({ launch: { lines: successfulLaunch(1) } });
    const copyBack: CopyBack = async () => ({ status: 'failed', message: 'ssh: Could not resolve hostname vin-ocr-test' });
    const { run, runDir, manager, log } = startCloudRun({ sky: runner, copyBack });
    assert.equal((await run.done).status, 'completed');
    assert.ok(log.some((line) => /Could not copy the run's files back/.test(line)));
    const record = await readCloudRecord(runDir);
    assert.equal(record?.copyBack?.status, 'failed');
    assert.ok(existsSync(join(runDir, 'events.jsonl')));
    await manager.dispose();
  });
});

describe('SkyPilot launcher against the sky stand-in (recorded SkyPilot 0.14 output)', function () {
  this.timeout(30_000);
  const standIn = resolve('test/fixtures/sky/sky-standin.mjs');
  const config = resolve('test/fixtures/workspace/training/tiny.yaml');

  /** runSky on the stand-in, with the scenario and the invocation log in its environment. */
  function standInSky(scenario: string, extra: Record<string, string> = {}) {
    const log = join(mkdtempSync(join(tmpdir(), 'vin-ocr-standin-')), 'calls.jsonl');
    const env = { ...process.env, SKY_STANDIN_SCENARIO: scenario, SKY_STANDIN_LOG: log, ...extra };
    const sky: SkyRunner = (args, options) => runSky({ path: standIn }, args, { ...options, env });
    const calls = () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => (JSON.parse(line) as { argv: string[] }).argv)
        : [];
    return { sky, calls };
  }

  it('plans, launches and streams a whole run', async () => {
    const { sky, calls } = standInSky('ok');
    const { run, runDir, manager } = startCloudRun({ sky, plan: planCloudRun, configPath: config });
    const state = await run.done;
    assert.equal(state.status, 'completed', `${state.errorCode} ${state.errorMessage}`);
    assert.equal(state.step, 6);
    assert.ok(state.bestMetrics.cer !== undefined, 'eval events arrived');
    assert.equal(calls()[0]![0], 'launch');
    assert.equal((await readCloudRecord(runDir))?.jobId, 1);
    await manager.dispose();
  });

  it('reads a quota failure from SkyPilot’s own words', async () => {
    const { sky } = standInSky('quota');
    const { run, manager } = startCloudRun({ sky, plan: planCloudRun, configPath: config });
    const state = await run.done;
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'sky-quota');
    await manager.dispose();
  });

  it('cancels a streaming run with `sky cancel CLUSTER JOB` and ends the local sky', async () => {
    const { sky, calls } = standInSky('ok', { SKY_STANDIN_DELAY_MS: '100' });
    const { run, manager } = startCloudRun({ sky, plan: planCloudRun, configPath: config });
    const deadline = Date.now() + 20_000;
    while (run.state.step < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    run.cancel();
    assert.equal((await run.done).status, 'cancelled');
    assert.deepEqual(
      calls().find((argv) => argv[0] === 'cancel'),
      ['cancel', '-y', CLUSTER, '1'],
    );
    await manager.dispose();
  });
});

describe('copy-back over SkyPilot’s ssh alias', () => {
  /** A folder with fake `rsync`/`scp` that record their arguments, as the only PATH. */
  function fakeTools(names: string[], exitCode = 0): { bin: string; calls: () => string[][] } {
    const bin = mkdtempSync(join(tmpdir(), 'vin-ocr-fake-tools-'));
    const log = join(bin, 'calls.jsonl');
    for (const name of names) {
      const script = join(bin, name);
      const argv = `JSON.stringify([${JSON.stringify(name)}, ...process.argv.slice(2)])`;
      const record = `require('fs').appendFileSync(${JSON.stringify(log)}, ${argv} + '\\n');`;
      writeFileSync(script, `#!${process.execPath}\n${record}\nprocess.exit(${exitCode});\n`);
      chmodSync(script, 0o755);
    }
    const calls = () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as string[])
        : [];
    return { bin, calls };
  }

  async function withPath<T>(path: string, body: () => Promise<T>): Promise<T> {
    const saved = process.env.PATH;
    process.env.PATH = path;
    try {
      return await body();
    } finally {
      process.env.PATH = saved;
    }
  }

  it('rsyncs the run folder from CLUSTER:DIR without the streamed events and log, in one argument array', async function () {
    if (process.platform === 'win32') this.skip();
    const { bin, calls } = fakeTools(['rsync', 'scp']);
    const outcome = await withPath(bin, () => copyBackOverSsh('vin-ocr-x', '/home/u/runs/r1/', '/tmp/local run'));
    assert.deepEqual(outcome, { status: 'copied' });
    const [call] = calls();
    assert.equal(call![0], 'rsync');
    assert.ok(call!.includes('vin-ocr-x:/home/u/runs/r1/') && call!.includes('/tmp/local run/'), call!.join(' '));
    assert.ok(call!.join(' ').includes('--exclude events.jsonl --exclude train.log'));
    assert.ok(call!.includes('ssh -o BatchMode=yes -o ConnectTimeout=20'), 'never a password prompt');
  });

  it('falls back to scp per item, and reports what did not come back', async function () {
    if (process.platform === 'win32') this.skip();
    const { bin, calls } = fakeTools(['scp'], 1);
    const outcome = await withPath(bin, () => copyBackOverSsh('vin-ocr-x', '/home/u/runs/r1', '/tmp/local'));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.message!, /checkpoints: exit 1/);
    assert.deepEqual(
      calls().map((call) => call.at(-2)),
      ['vin-ocr-x:/home/u/runs/r1/checkpoints', 'vin-ocr-x:/home/u/runs/r1/metrics.json', 'vin-ocr-x:/home/u/runs/r1/config.yaml'],
    );
  });
});
