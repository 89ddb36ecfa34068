import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainerEvent } from '../../../src/core/trainer/events';
import { launchTrainer } from '../../../src/core/trainer/launch';
import { trainerEnvironment } from '../../../src/core/trainer/local-launcher';
import { isRunning, FAKE_TRAINER_DIR, PYTHON, waitFor } from './process-helpers';

function launch(args: string[]) {
  const events: TrainerEvent[] = [];
  const logs: string[] = [];
  const trainer = launchTrainer({
    python: PYTHON,
    trainerDir: FAKE_TRAINER_DIR,
    args,
    onEvent: (event) => events.push(event),
    onLog: (line, stream) => logs.push(`${stream}: ${line}`),
  });
  return { trainer, events, logs };
}

describe('trainerEnvironment', () => {
  it('sets unbuffered output, puts the bundled trainer first on PYTHONPATH and adds the OpenMP fix on macOS only', () => {
    const mac = trainerEnvironment({ PYTHONPATH: '/elsewhere', HOME: '/home/u' }, '/ext/trainer', 'darwin');
    assert.equal(mac.PYTHONUNBUFFERED, '1');
    assert.equal(mac.KMP_DUPLICATE_LIB_OK, 'TRUE');
    assert.equal(mac.PYTHONPATH, '/ext/trainer:/elsewhere');
    assert.equal(mac.HOME, '/home/u');
    const linux = trainerEnvironment({}, '/ext/trainer', 'linux');
    assert.equal(linux.KMP_DUPLICATE_LIB_OK, undefined);
    assert.equal(linux.PYTHONPATH, '/ext/trainer');
    assert.equal(trainerEnvironment({ PYTHONPATH: 'C:\\x' }, 'C:\\ext\\trainer', 'win32').PYTHONPATH, 'C:\\ext\\trainer;C:\\x');
  });
});

describe('launchTrainer', () => {
  it('streams typed events, sends stray stdout and stderr to the log and reports the exit', async () => {
    const { trainer, events, logs } = launch(['events']);
    const exit = await trainer.exited;
    assert.deepEqual(exit, { exitCode: 0, signal: undefined });
    assert.deepEqual(
      events.map((event) => event.type),
      ['run_started', 'progress', 'progress', 'progress', 'unknown', 'run_finished'],
    );
    assert.ok(logs.includes('stdout: a stray line from some library'));
    assert.ok(logs.includes('stderr: INFO step 3 done'));
  });

  it('passes the environment the trainer needs', async () => {
    const { trainer, events } = launch(['env']);
    await trainer.exited;
    const log = events.find((event) => event.type === 'log');
    const env = JSON.parse(log && log.type === 'log' ? log.message : '{}') as Record<string, string | null>;
    assert.equal(env.PYTHONUNBUFFERED, '1');
    assert.equal(env.PYTHONPATH!.split(':')[0], FAKE_TRAINER_DIR);
  });

  it('reports a crash with its exit code and stderr', async () => {
    const { trainer, logs } = launch(['crash']);
    assert.equal((await trainer.exited).exitCode, 3);
    assert.ok(logs.includes('stderr: RuntimeError: boom'));
  });

  it('reports an interpreter that does not exist without throwing', async () => {
    const trainer = launchTrainer({
      python: '/nonexistent/python3',
      trainerDir: FAKE_TRAINER_DIR,
      args: ['events'],
      onEvent: () => {},
      onLog: () => {},
    });
    const exit = await trainer.exited;
    assert.ok(exit.spawnError, 'expected a spawn error');
    assert.match(exit.spawnError!, /ENOENT|nonexistent/);
  });

  it('stop() ends the trainer and its worker, after the trainer saved its checkpoint', async function () {
    if (process.platform !== 'linux') this.skip();
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'vin-ocr-launch-')), 'last.pt');
    const { trainer, events } = launch(['worker', checkpoint]);
    const announced = await waitFor(() => events.find((event) => event.type === 'unknown' && event.name === 'worker_pids'));
    const startedPids = (announced as { raw: { pids: number[] } }).raw.pids;
    assert.equal(startedPids.length, 2);
    assert.equal(startedPids[0], trainer.pid);
    assert.ok(startedPids.every(isRunning));
    const result = await trainer.stop({ graceMs: 5000 });
    assert.equal(result.gone, true);
    await trainer.exited;
    assert.ok(existsSync(checkpoint), 'checkpoint written on SIGTERM');
    assert.equal(readFileSync(checkpoint, 'utf8'), 'saved');
    assert.ok(events.some((event) => event.type === 'run_finished' && event.status === 'cancelled'));
    for (const pid of startedPids) assert.equal(isRunning(pid), false, `pid ${pid} still running`);
  });
});
