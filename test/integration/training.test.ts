// Training inside a real VS Code: Train on a tiny config, read, evaluate and export its checkpoint,
// cancel a long one, a failing dataset, and Restricted Mode. The trainer really runs (the repo's
// .venv, torch on the CPU).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LiveRun } from '../../src/core/trainer/run-manager';
import type { RunNode } from '../../src/features/training/runs-tree';
import { comparisonMarkdown } from '../../src/features/training/compare';
import { failureActions } from '../../src/features/training/outcome';
import { groupMembers, processesMentioning, readVinWith, until, untilFirstCheckpoint, within } from './waiting';

const EXTENSION_ID = 'vin-ocr.vin-ocr';

function fixture(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace is open');
  return vscode.Uri.joinPath(folder.uri, 'training', name);
}

async function activate(): Promise<void> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
  if (!extension.isActive) await extension.activate();
}

async function train(name: string): Promise<LiveRun | undefined> {
  return Promise.resolve(vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.train', fixture(name)));
}

/** The interpreter the runner configured (the repo's .venv with torch): these suites train for real, never by luck. */
function configuredPython(): string {
  const python = vscode.workspace.getConfiguration('vinOcr').get<string>('pythonPath');
  assert.ok(python, 'vinOcr.pythonPath is not set: run the suites with test/e2e/run-code-server.mjs, which sets it to .venv/bin/python');
  return python;
}

/** Trains tiny.yaml to completion (6 steps, seconds) and returns the finished run: tests make the runs they need. */
async function trainTiny(): Promise<{ run: LiveRun; state: LiveRun['state'] }> {
  const run = await train('tiny.yaml');
  assert.ok(run, 'Train started a run');
  const state = await within(run.done, 180_000, 'the tiny run');
  assert.equal(
    state.status,
    'completed',
    `run ended ${state.status}: ${state.errorCode ?? ''} ${state.errorMessage ?? ''} ${run.tail.join('\n')}`,
  );
  assert.ok(state.runDir && existsSync(join(state.runDir, 'checkpoints', 'best.pt')), 'best checkpoint written');
  return { run, state };
}

describe('VIN OCR training (in a real VS Code)', function () {
  this.timeout(240_000);

  before(async function () {
    await activate();
    // The Restricted Mode pass (run-code-server.mjs --trust) runs only the suites below.
    if (!vscode.workspace.isTrusted) this.skip();
    configuredPython();
  });

  it('trains a tiny config: progress in the log, a run in the tree with metrics, the Training view updated', async () => {
    await vscode.commands.executeCommand('vinOcr.trainingView.focus');
    await until(
      async () => (await vscode.commands.executeCommand<{ resolved: boolean }>('vinOcr.trainViewStatus')).resolved,
      30_000,
      'the Training view',
    );
    const { run, state } = await trainTiny();
    assert.equal(state.step, 6);
    assert.ok(
      run.tail.some((line) => /step \d+\/6/.test(line)),
      'the trainer log reached the extension',
    );

    const runs = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    const node = runs.find((candidate) => candidate.dir === state.runDir);
    assert.ok(node, 'the run is in the Runs tree');
    assert.equal(node.state.status, 'completed');
    assert.ok(node.state.bestMetrics.cer !== undefined, 'best metrics shown');
    assert.ok(node.state.checkpoints.length >= 1, 'checkpoints listed');

    const view = await until(
      async () => {
        const status = await vscode.commands.executeCommand<{ delivered: Record<string, number> }>('vinOcr.trainViewStatus');
        return (status.delivered.points ?? 0) > 0 ? status : undefined;
      },
      10_000,
      'chart points delivered to the Training view',
    );
    assert.ok((view.delivered.snapshot ?? 0) > 0);
  });

  it('reaches the first progress event through the Train command, like the bare trainer (timings in .vscode-test/metrics)', async () => {
    const python = configuredPython();
    const output = mkdtempSync(join(tmpdir(), 'vin-ocr-first-progress-'));
    const config = fixture('tiny.yaml').fsPath;
    const trainerDir = join(__dirname, '..', '..', 'trainer');
    const bare = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(python!, ['-m', 'vin_ocr', 'train', config, '--events', '-', '--output-dir', output], {
          env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: trainerDir },
          stdio: ['ignore', 'pipe', 'ignore'],
          detached: true,
        });
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('"event": "progress"')) {
            resolve(performance.now() - started);
            process.kill(-child.pid!, 'SIGKILL');
          }
        });
        child.on('error', reject);
        child.on('exit', (code) => {
          if (!text.includes('"event": "progress"'))
            reject(new Error(`the bare trainer exited with ${code} before its first progress event`));
        });
      });
    const command = async (): Promise<number> => {
      const started = performance.now();
      const run = await train('tiny.yaml');
      assert.ok(run);
      await until(
        () => {
          if (run.state.step > 0) return true;
          // A run that ends before its first step is a failure here, never a fast "first progress".
          if (run.state.status !== 'running' && run.state.status !== 'queued') {
            const { status, errorCode, errorMessage } = run.state;
            const why = `${errorCode ?? ''} ${errorMessage ?? ''}\n${run.tail.join('\n')}`;
            throw new Error(`the run ended ${status} before its first progress event: ${why}`);
          }
          return undefined;
        },
        120_000,
        'the first progress event',
      );
      const elapsed = performance.now() - started;
      run.cancel();
      await run.done;
      return elapsed;
    };
    const bareTimes: number[] = [];
    const commandTimes: number[] = [];
    for (let round = 0; round < 2; round++) {
      bareTimes.push(await bare());
      commandTimes.push(await command());
    }
    rmSync(output, { recursive: true, force: true });
    const ratio = Math.min(...commandTimes) / Math.min(...bareTimes);
    const figures = { at: new Date().toISOString(), bareMs: bareTimes, trainCommandMs: commandTimes, ratioOfBest: ratio };
    const metrics = join(__dirname, '..', '..', '.vscode-test', 'metrics');
    mkdirSync(metrics, { recursive: true });
    writeFileSync(join(metrics, 'training-first-progress.json'), JSON.stringify(figures, null, 2));
    // Timing is recorded, not asserted: machines here are noisy, and bench/training.bench.ts holds the
    // 1.05 target. What must hold is that the Train command reached a first progress event every time.
    assert.ok([...bareTimes, ...commandTimes].every(Number.isFinite), JSON.stringify(figures));
  });

  it('reads a VIN and evaluates with the checkpoint it trained', async () => {
    const { state } = await trainTiny();
    const best = join(state.runDir!, 'checkpoints', 'best.pt');
    const read = await readVinWith(fixture('read/images/vin_12.png'), best, 120_000, 'predict');
    assert.ok(Array.isArray(read.characters), 'per-character confidence');
    const metrics = await within(
      Promise.resolve(
        vscode.commands.executeCommand<Record<string, number>>(
          'vinOcr.evaluateCheckpoint',
          { kind: 'checkpoint', path: best },
          fixture('read/labels.txt'),
        ),
      ),
      120_000,
      'evaluate',
    );
    assert.ok(metrics && typeof metrics.exact_match === 'number' && typeof metrics.cer === 'number', JSON.stringify(metrics));
  });

  it('exports the run it trained to ONNX from the Runs tree: model.onnx and vin-ocr-model.json, parity checked', async () => {
    const { state } = await trainTiny();
    const output = join(state.runDir!, 'export', 'onnx'); // what the command offers first for a run
    const result = await within(
      Promise.resolve(
        vscode.commands.executeCommand<{ model: string; manifest: string; parity: { size: number; identical: number } } | undefined>(
          'vinOcr.exportModel',
          { kind: 'run', dir: state.runDir },
          output,
          { paritySize: 20 },
        ),
      ),
      180_000,
      'export',
    );
    assert.ok(result, 'export answered (see the VIN OCR Training log otherwise)');
    assert.equal(result.model, join(output, 'model.onnx'));
    assert.ok(existsSync(join(output, 'model.onnx')), 'model.onnx written');
    assert.ok(existsSync(join(output, 'vin-ocr-model.json')), 'vin-ocr-model.json written');
    const manifest = JSON.parse(readFileSync(join(output, 'vin-ocr-model.json'), 'utf8')) as { format?: string };
    assert.equal(manifest.format, 'vin-ocr-onnx');
    assert.equal(result.parity.size, 20, 'the parity check read the held-out images with both engines');
  });

  it('cancel mid-run keeps the checkpoint and leaves no trainer process', async function () {
    if (process.platform !== 'linux') this.skip(); // the process table is read from /proc
    const run = await train('long.yaml');
    assert.ok(run, 'Train started a run');
    await untilFirstCheckpoint(run, 180_000, 'the first checkpoint');
    const pid = run.pid;
    assert.ok(pid, 'the trainer has a process id');
    const started = Date.now();
    await vscode.commands.executeCommand('vinOcr.trainCancel', { kind: 'run', live: run });
    const state = await within(run.done, 30_000, 'the cancelled run to end');
    assert.equal(state.status, 'cancelled');
    assert.ok(Date.now() - started < 20_000, `cancel took ${Date.now() - started} ms`);
    assert.deepEqual(groupMembers(pid), [], 'no process of the trainer group is left');
    assert.deepEqual(processesMentioning('long.yaml'), [], 'no trainer process is left');
    const checkpoints = join(state.runDir!, 'checkpoints');
    assert.ok(existsSync(join(checkpoints, 'last.pt')), 'the checkpoint is kept');
  });

  it('compares two runs side by side', async () => {
    const dirs = [(await trainTiny()).state.runDir, (await trainTiny()).state.runDir];
    const listed = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    const runs = dirs.map((dir) => listed.find((run) => run.dir === dir));
    assert.ok(
      runs.every((run) => run && Object.keys(run.state.bestMetrics).length > 0),
      'both runs are in the Runs tree with metrics',
    );
    const markdown = comparisonMarkdown(runs as RunNode[]);
    for (const run of runs) assert.ok(markdown.includes(run!.id), `${run!.id} is a column`);
    assert.match(markdown, /\| \*\*cer\*\* \| [\d.]+ \| [\d.]+ \|/);
    assert.match(markdown, /\| status \| completed \| completed \|/);
  });

  it('refuses a config with validation errors before starting anything', async () => {
    const before = processesMentioning('invalid.yaml');
    const run = await within(train('invalid.yaml'), 10_000, 'Train to answer');
    assert.equal(run, undefined, 'no run for an invalid config');
    assert.deepEqual(
      processesMentioning('invalid.yaml').filter((pid) => !before.includes(pid)),
      [],
    );
  });

  it('a run on an invalid dataset fails with its error code and offers the fix', async () => {
    const run = await train('broken-dataset.yaml');
    assert.ok(run, 'Train started a run');
    const state = await within(run.done, 120_000, 'the failing run');
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'invalid_dataset', `${state.errorCode}: ${state.errorMessage}\n${run.tail.join('\n')}`);
    const titles = failureActions(run, { retry() {}, resume() {}, showLog() {}, installFlashAttnStub() {} }).map((action) => action.title);
    assert.ok(titles.includes('Show Problems'), titles.join(', '));
    const labels = fixture('bad-data/labels.txt');
    const problems = await until(
      () => {
        const list = vscode.languages.getDiagnostics(labels);
        return list.length > 0 ? list : undefined;
      },
      5_000,
      'dataset problems on labels.txt',
    );
    assert.ok(problems.every((problem) => problem.source === 'VIN OCR trainer'));
  });

  // Last: in code-server, running a task makes the extension host forget the user settings (vinOcr.pythonPath)
  // until the window reloads; the runs above would then resolve another interpreter.
  it('offers a vin-ocr task per training config that trains with the problem matcher', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'vin-ocr' });
    const task = tasks.find((candidate) => candidate.definition.config === 'training/tiny.yaml');
    assert.ok(task, `tasks: ${tasks.map((candidate) => candidate.name).join(', ')}`);
    assert.deepEqual(task.problemMatchers, ['$vin-ocr-trainer']);
    const ended = new Promise<number | undefined>((resolve) => {
      const listener = vscode.tasks.onDidEndTaskProcess((event) => {
        if (event.execution.task.definition.config === 'training/tiny.yaml') {
          listener.dispose();
          resolve(event.exitCode);
        }
      });
    });
    await vscode.tasks.executeTask(task);
    assert.equal(await within(ended, 180_000, 'the training task'), 0);
  });
});

describe('VIN OCR training in Restricted Mode (untrusted workspace)', function () {
  this.timeout(30_000);

  it('refuses to train and spawns nothing', async function () {
    await activate();
    if (vscode.workspace.isTrusted) this.skip(); // runs with `npm run test:integration -- --trust`
    const before = processesMentioning('vin_ocr');
    const run = await train('tiny.yaml');
    assert.equal(run, undefined, 'no run was started');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(
      processesMentioning('vin_ocr').filter((pid) => !before.includes(pid)),
      [],
      'no trainer process',
    );
  });
});
