// "Train on Cloud…" inside a real VS Code, against the `sky` stand-in (test/fixtures/sky/sky-standin.mjs, which
// replays SkyPilot 0.14's recorded output). The runner points vinOcr.cloud.skyPath at it in the profile's machine
// and user settings; each test picks the stand-in's scenario through the extension host's environment, which
// every `sky` it starts inherits. The quick picks are answered as a person would, with the workbench's accept.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LiveRun } from '../../src/core/trainer/run-manager';
import type { RunNode } from '../../src/features/training/runs-tree';
import { until, within } from './waiting';

const EXTENSION_ID = 'vin-ocr.vin-ocr';

function fixture(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  return vscode.Uri.joinPath(folder.uri, 'training', name);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every `sky` call the stand-in saw, in order. */
function skyCalls(log: string): string[][] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { argv: string[] }).argv);
}

/** Live stand-in processes started for a subcommand (from /proc). */
function standInsRunning(subcommand: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv.some((arg) => arg.endsWith('sky-standin.mjs')) && argv.includes(subcommand);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Chart points the Training view has been sent (it charts cloud runs like local ones), once it has some. */
async function deliveredPoints(): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await vscode.commands.executeCommand<{ delivered: Record<string, number> }>('vinOcr.trainViewStatus');
    const points = status.delivered.points ?? 0;
    if (points > 0 || Date.now() > deadline) return points;
    await sleep(200);
  }
}

/**
 * Runs "Train on Cloud…" on a config and answers each quick pick with its first row (the best fitting instance,
 * one node, on-demand); the modal confirmation, which VS Code refuses to show in tests, is answered by the
 * command's test-mode argument. `beforeAnswering` runs once before the first answer.
 */
async function trainOnCloud(name: string, beforeAnswering?: () => Promise<void>): Promise<LiveRun | undefined> {
  let settled = false;
  const command = Promise.resolve(
    vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.trainOnCloud', fixture(name), { confirm: true }),
  );
  void command.finally(() => (settled = true));
  await beforeAnswering?.();
  while (!settled) {
    await sleep(200);
    if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  return command;
}

describe('VIN OCR cloud training (in a real VS Code, sky stand-in)', function () {
  this.timeout(120_000);
  let log: string;

  before(async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
    if (!extension.isActive) await extension.activate();
    if (!vscode.workspace.isTrusted) this.skip();
    const skyPath = vscode.workspace.getConfiguration('vinOcr.cloud').inspect<string>('skyPath')?.globalValue;
    assert.ok(
      skyPath?.endsWith('sky-standin.mjs'),
      `vinOcr.cloud.skyPath is "${skyPath}": run the suites with test/e2e/run-code-server.mjs`,
    );
  });

  beforeEach(() => {
    log = join(mkdtempSync(join(tmpdir(), 'vin-ocr-sky-calls-')), 'calls.jsonl');
    process.env.SKY_STANDIN_LOG = log;
    process.env.SKY_STANDIN_SCENARIO = 'ok';
    delete process.env.SKY_STANDIN_DELAY_MS;
  });

  after(() => {
    for (const name of ['SKY_STANDIN_LOG', 'SKY_STANDIN_SCENARIO', 'SKY_STANDIN_DELAY_MS']) delete process.env[name];
  });

  it('trains on the best fitting instance: the run is in the Runs tree with its cluster, and its progress flows', async () => {
    await vscode.commands.executeCommand('vinOcr.trainingView.focus');
    await until(
      async () => (await vscode.commands.executeCommand<{ resolved: boolean }>('vinOcr.trainViewStatus')).resolved,
      30_000,
      'the Training view',
    );
    const run = await within(trainOnCloud('tiny.yaml'), 30_000, 'Train on Cloud to start a run');
    assert.ok(run, 'Train on Cloud started a run');
    const state = await within(run.done, 60_000, 'the cloud run');
    assert.equal(state.status, 'completed', `${state.errorCode ?? ''} ${state.errorMessage ?? ''}\n${run.tail.join('\n')}`);
    assert.equal(state.step, 6, 'every progress event of the job arrived');
    assert.ok(state.bestMetrics.cer !== undefined, 'eval events arrived');

    const calls = skyCalls(log);
    assert.deepEqual(calls[0], ['check'], '`sky check` runs first, while the person picks');
    const launch = calls.find((argv) => argv[0] === 'launch');
    assert.ok(launch && launch[1] === '-y' && launch[2] === '-c', `sky launch -y -c CLUSTER TASK: ${JSON.stringify(launch)}`);
    const cluster = launch[3]!;

    const runs = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    const node = runs.find((candidate) => candidate.dir === state.runDir);
    assert.ok(node, 'the run is in the Runs tree');
    assert.equal(node.state.status, 'completed');
    assert.equal(node.stored?.cloud?.cluster, cluster, 'with its cluster');
    assert.equal(node.stored?.cloud?.state, 'succeeded');
    assert.equal(node.stored?.cloud?.target.id, 'g4dn.xlarge', 'the first row: the best fitting instance');
    assert.equal(node.stored?.cloud?.autostopMinutes, 30, 'autostop on by default');
    assert.ok(existsSync(join(state.runDir!, 'events.jsonl')));

    assert.ok((await deliveredPoints()) > 0, 'the Training view charted the cloud run’s points');
  });

  it('cancel stops the job with `sky cancel`, ends the local sky and marks the run cancelled', async () => {
    process.env.SKY_STANDIN_DELAY_MS = '150';
    const run = await within(trainOnCloud('tiny.yaml'), 30_000, 'Train on Cloud to start a run');
    assert.ok(run);
    await until(() => run.state.step > 0, 60_000, 'the first progress event');
    await vscode.commands.executeCommand('vinOcr.trainCancel', { kind: 'run', live: run });
    const state = await within(run.done, 30_000, 'the cancelled run to end');
    assert.equal(state.status, 'cancelled');
    const calls = skyCalls(log);
    const cluster = calls.find((argv) => argv[0] === 'launch')![3]!;
    assert.deepEqual(
      calls.find((argv) => argv[0] === 'cancel'),
      ['cancel', '-y', cluster, '1'],
    );
    assert.deepEqual(standInsRunning('launch'), [], 'no local sky launch is left');
    const node = (await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList')).find((candidate) => candidate.dir === state.runDir);
    assert.equal(node?.state.status, 'cancelled');
    assert.equal(node?.stored?.cloud?.state, 'cancelled');
  });

  it('a launch refused for quota marks the run failed with the reason and the fix', async () => {
    const run = await within(
      trainOnCloud('tiny.yaml', async () => {
        // The credentials check passes (scenario ok); the launch then meets the quota.
        await until(() => skyCalls(log).some((argv) => argv[0] === 'check'), 10_000, 'sky check');
        process.env.SKY_STANDIN_SCENARIO = 'quota';
      }),
      30_000,
      'Train on Cloud to start a run',
    );
    assert.ok(run);
    const state = await within(run.done, 30_000, 'the failed launch');
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'sky-quota');
    assert.match(`${state.errorMessage} ${state.hint}`, /quota/i);
    assert.deepEqual(standInsRunning('launch'), [], 'no local sky launch is left');
    const node = (await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList')).find((candidate) => candidate.dir === state.runDir);
    assert.equal(node?.state.status, 'failed', 'the Runs tree shows it failed');
    assert.equal(node?.state.errorCode, 'sky-quota');
    assert.equal(node?.stored?.cloud?.problem?.code, 'sky-quota');
  });

  it('without cloud credentials (sky check) it says so and launches nothing', async () => {
    process.env.SKY_STANDIN_SCENARIO = 'no-credentials';
    const run = await within(trainOnCloud('tiny.yaml'), 30_000, 'Train on Cloud to answer');
    assert.equal(run, undefined, 'no run');
    const calls = skyCalls(log);
    assert.ok(calls.some((argv) => argv[0] === 'check'));
    assert.ok(!calls.some((argv) => argv[0] === 'launch'), 'sky launch never ran');
  });
});

describe('VIN OCR cloud training in Restricted Mode (untrusted workspace)', function () {
  this.timeout(30_000);

  it('refuses Train on Cloud and runs no sky', async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    if (extension && !extension.isActive) await extension.activate();
    if (vscode.workspace.isTrusted) this.skip(); // runs with `node test/e2e/run-code-server.mjs --trust`
    const log = join(mkdtempSync(join(tmpdir(), 'vin-ocr-sky-calls-')), 'calls.jsonl');
    process.env.SKY_STANDIN_LOG = log;
    try {
      const run = await vscode.commands.executeCommand('vinOcr.trainOnCloud', fixture('tiny.yaml'), { confirm: true });
      assert.equal(run, undefined);
      await sleep(500);
      assert.deepEqual(skyCalls(log), [], 'no sky was started');
    } finally {
      delete process.env.SKY_STANDIN_LOG;
    }
  });
});
