import * as assert from 'node:assert/strict';
import { classifyUnreportedExit, describeFailure, missingModule } from '../../../src/core/trainer/failure';
import { runTrainerOnce, startTrainer } from '../../../src/core/trainer/launch';
import type { TrainerLaunchRequest, TrainerLauncher, TrainerProcessHandle } from '../../../src/core/trainer/launcher';
import { createLocalLauncher } from '../../../src/core/trainer/local-launcher';
import { RunManager } from '../../../src/core/trainer/run-manager';
import type { TrainerEvent } from '../../../src/core/trainer/events';
import { cliTrainArgs } from '../../../src/core/trainer/trainer-args';
import { FAKE_TRAINER_DIR, isRunning, PYTHON } from './process-helpers';

/** A launcher that runs nothing: it replays lines, as a remote launcher would relay them. */
function scriptedLauncher(stdout: string[], stderr: string[], exit: { exitCode?: number; signal?: string }) {
  const started: TrainerLaunchRequest[] = [];
  const cancels: (number | undefined)[] = [];
  const launcher: TrainerLauncher = {
    description: 'scripted',
    start(request): TrainerProcessHandle {
      started.push(request);
      const exited = new Promise<{ exitCode: number | undefined; signal: string | undefined }>((resolve) =>
        setTimeout(() => {
          for (const line of stdout) request.output.stdout(line);
          for (const line of stderr) request.output.stderr(line);
          resolve({ exitCode: exit.exitCode, signal: exit.signal });
        }, 5),
      );
      return {
        pid: undefined,
        description: `scripted ${request.args.join(' ')}`,
        exited,
        cancel: async (options) => {
          cancels.push(options?.graceMs);
          return { forced: false, gone: true };
        },
      };
    },
  };
  return { launcher, started, cancels };
}

describe('trainer failures the trainer could not report', () => {
  it('names a missing interpreter, a missing module and a crash', () => {
    const none = classifyUnreportedExit(
      { exitCode: undefined, signal: undefined, spawnError: 'could not start /x/python: ENOENT' },
      [],
      '/x/python',
    );
    assert.equal(none.errorCode, 'no_interpreter');
    const tail = ['Traceback (most recent call last):', "ModuleNotFoundError: No module named 'torch.nn'"];
    const missing = classifyUnreportedExit({ exitCode: 1, signal: undefined }, tail, '/v/python');
    assert.equal(missing.errorCode, 'missing_dependency');
    assert.equal(missing.message, "/v/python has no module named 'torch'.");
    assert.match(describeFailure(missing), /^missing_dependency: .* Set up the trainer environment/);
    assert.equal(
      classifyUnreportedExit({ exitCode: undefined, signal: 'SIGKILL' }, [], 'p').message,
      'The trainer exited on SIGKILL without reporting an outcome.',
    );
    assert.equal(classifyUnreportedExit({ exitCode: 3, signal: undefined }, ['boom'], 'p').errorCode, 'crashed');
    assert.equal(missingModule(['nothing here']), undefined);
  });
});

describe('the local launcher', () => {
  const launcher = createLocalLauncher({ trainerDir: FAKE_TRAINER_DIR });

  it('describes itself and each trainer for the logs', async () => {
    assert.match(launcher.description, /this machine/);
    const handle = launcher.start({ python: PYTHON, args: ['events'], output: { stdout: () => {}, stderr: () => {} } });
    assert.match(handle.description, /-m vin_ocr events \(pid \d+/);
    assert.equal((await handle.exited).exitCode, 0);
  });

  it('ends the workers a trainer leaves behind before it reports the exit', async function () {
    if (process.platform !== 'linux') this.skip();
    let pids: number[] = [];
    const trainer = startTrainer(launcher, {
      python: PYTHON,
      args: ['orphan'],
      onEvent: (event: TrainerEvent) => {
        if (event.type === 'unknown' && event.name === 'worker_pids') pids = (event.raw as { pids: number[] }).pids;
      },
      onLog: () => {},
    });
    const exit = await trainer.exited;
    assert.equal(exit.exitCode, 0);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.equal(isRunning(pid), false, `pid ${pid} outlived its trainer`);
  });

  it('runs one-shot commands with the same crash reading', async () => {
    const ok = await runTrainerOnce(launcher, { python: PYTHON, args: ['big-json', String(2 * 1024 * 1024)] });
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.failure, undefined);
    assert.equal(
      (JSON.parse(ok.stdout) as { blob: string }).blob.length,
      2 * 1024 * 1024,
      'a JSON answer over the event line cap arrives whole',
    );
    const crash = await runTrainerOnce(launcher, { python: PYTHON, args: ['crash'] });
    assert.equal(crash.failure?.errorCode, 'crashed');
    assert.ok(crash.stderr.includes('RuntimeError: boom'));
    const noTorch = await runTrainerOnce(launcher, { python: PYTHON, args: ['no-torch'] });
    assert.equal(noTorch.failure?.errorCode, 'missing_dependency');
    const missing = await runTrainerOnce(launcher, { python: '/nonexistent/python3', args: ['events'] });
    assert.equal(missing.failure?.errorCode, 'no_interpreter');
    assert.ok(missing.spawnError);
  });
});

describe('an injected launcher', () => {
  it('is what the run manager starts trainers with, events and crash reading included', async () => {
    const { launcher, started } = scriptedLauncher(
      ['{"event":"run_started","run_id":"remote-1","total_steps":10}', 'stray text', '{"event":"progress","step":4,"total_steps":10}'],
      ["ModuleNotFoundError: No module named 'torch'"],
      { exitCode: 1 },
    );
    const manager = new RunManager({ launcher, maxConcurrent: 1 });
    const described: string[] = [];
    const logs: string[] = [];
    manager.subscribe({
      launched: (_run, description) => described.push(description),
      log: (_run, line, stream) => logs.push(`${stream}: ${line}`),
    });
    const run = manager.start({ label: 'x', configPath: '/c.yaml', python: '/remote/python', args: ['train', '/c.yaml'] });
    const state = await run.done;
    assert.deepEqual(
      started.map((request) => request.args),
      [['train', '/c.yaml']],
    );
    assert.deepEqual(described, ['scripted train /c.yaml']);
    assert.equal(run.launchDescription, 'scripted train /c.yaml');
    assert.equal(run.pid, undefined, 'a trainer elsewhere has no local process id');
    assert.equal(state.runId, 'remote-1');
    assert.equal(state.step, 4);
    assert.equal(state.errorCode, 'missing_dependency');
    assert.match(state.errorMessage!, /\/remote\/python has no module named 'torch'/);
    assert.ok(logs.includes('stdout: stray text'));
    await manager.dispose();
  });

  it('is cancelled with the grace the manager was given', async () => {
    const { launcher, cancels } = scriptedLauncher([], [], { signal: 'SIGTERM' });
    const manager = new RunManager({ launcher, maxConcurrent: 1, cancelGraceMs: 1234 });
    const run = manager.start({ label: 'x', configPath: '/c.yaml', python: 'p', args: ['train'] });
    run.cancel();
    assert.equal((await run.done).status, 'cancelled');
    assert.deepEqual(cancels, [1234]);
    await manager.dispose();
  });
});

describe('VS Code tasks', () => {
  it('train through the CLI with the resolved interpreter, so they share its launcher and crash reading', () => {
    assert.deepEqual(cliTrainArgs('/ext/dist/cli.js', '/v/python', '/w/a b.yaml'), [
      '/ext/dist/cli.js',
      'train',
      '/w/a b.yaml',
      '--python',
      '/v/python',
    ]);
    assert.deepEqual(cliTrainArgs('/c.js', 'py', '/w/c.yaml', { resumeFrom: '/w/runs/r1', device: 'cpu' }), [
      '/c.js',
      'train',
      '/w/c.yaml',
      '--python',
      'py',
      '--resume',
      '/w/runs/r1',
      '--device',
      'cpu',
    ]);
  });
});
