import * as assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunManager, type LiveRun } from '../../../src/core/trainer/run-manager';
import { FAKE_TRAINER_DIR, isRunning, PYTHON, waitFor } from './process-helpers';

function manager(maxConcurrent = 2) {
  const runs = new RunManager({ trainerDir: FAKE_TRAINER_DIR, maxConcurrent, notifyIntervalMs: 100, cancelGraceMs: 5000 });
  const changes: string[] = [];
  runs.subscribe({ runChanged: (run) => changes.push(`${run.key}:${run.state.status}`) });
  const start = (args: string[]) => runs.start({ label: args[0]!, configPath: '/c.yaml', python: PYTHON, args });
  return { runs, changes, start };
}

describe('RunManager', () => {
  it('follows a run from queued to completed', async () => {
    const { runs, changes, start } = manager();
    const run = start(['events']);
    const state = await run.done;
    assert.equal(state.status, 'completed');
    assert.equal(state.step, 3);
    assert.equal(state.device, 'cpu');
    assert.equal(changes[0], `${run.key}:running`, 'a free slot starts the run at once');
    assert.equal(changes.at(-1), `${run.key}:completed`);
    await runs.dispose();
  });

  it('marks a crash without a final event failed and keeps the last log lines', async () => {
    const { runs, start } = manager();
    const run = start(['crash']);
    const state = await run.done;
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'crashed');
    assert.match(state.errorMessage!, /code 3/);
    assert.ok(run.tail.includes('RuntimeError: boom'));
    await runs.dispose();
  });

  it('names a missing dependency when the trainer cannot import it', async () => {
    const { runs, start } = manager();
    const state = await start(['no-torch']).done;
    assert.equal(state.errorCode, 'missing_dependency');
    assert.match(state.errorMessage!, /no module named 'torch_that_is_not_installed'/);
    await runs.dispose();
  });

  it('fails with no_interpreter when the interpreter is missing', async () => {
    const { runs } = manager();
    const run = runs.start({ label: 'x', configPath: '/c.yaml', python: '/nonexistent/python', args: ['events'] });
    assert.equal((await run.done).errorCode, 'no_interpreter');
    await runs.dispose();
  });

  it('queues beyond the limit, and cancel ends the tree while the trainer saves its checkpoint', async function () {
    if (process.platform !== 'linux') this.skip();
    const { runs, start } = manager(1);
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'vin-ocr-rm-')), 'last.pt');
    const pids: number[] = [];
    runs.subscribe({
      event: (_run, event) =>
        event.type === 'unknown' && event.name === 'worker_pids' && pids.push(...(event.raw as { pids: number[] }).pids),
    });
    const first = start(['worker', checkpoint]);
    const second = start(['events']);
    await waitFor(() => (pids.length === 2 ? true : undefined));
    assert.equal(second.state.status, 'queued');
    first.cancel();
    const state = await first.done;
    assert.equal(state.status, 'cancelled');
    assert.ok(
      pids.every((pid) => !isRunning(pid)),
      'trainer and worker gone',
    );
    assert.equal((await second.done).status, 'completed');
    await runs.dispose();
  });

  it('coalesces a flood of events into a few UI notifications', async () => {
    const { runs, changes, start } = manager();
    let events = 0;
    runs.subscribe({ event: () => (events += 1) });
    const run = start(['flood', '2000', '4000']);
    assert.equal((await run.done).status, 'completed');
    assert.equal(events, 2002);
    const notifications = changes.filter((change) => change.startsWith(`${run.key}:`)).length;
    assert.ok(notifications < 40, `${notifications} notifications for 2000 events`);
    await runs.dispose();
  });

  it('dispose() stops every run and leaves no process behind', async function () {
    if (process.platform !== 'linux') this.skip();
    const { runs, start } = manager(2);
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'vin-ocr-rm-')), 'last.pt');
    const live: LiveRun[] = [start(['worker', checkpoint]), start(['worker', `${checkpoint}.2`]), start(['events'])];
    await waitFor(() => (live.slice(0, 2).every((run) => run.state.runId) ? true : undefined));
    await runs.dispose();
    assert.deepEqual(
      live.map((run) => run.state.status),
      ['cancelled', 'cancelled', 'cancelled'],
    );
    assert.throws(() => start(['events']), /shut down/);
  });
});
