import * as assert from 'node:assert/strict';
import { RunQueue } from '../../../src/core/trainer/queue';

/** A job that runs until the test releases it (or the queue aborts it). */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const log: string[] = [];
  const work = (name: string) => async (signal: AbortSignal) => {
    log.push(`start ${name}`);
    await Promise.race([released, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))]);
    log.push(`end ${name}`);
  };
  return { release, work, log };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RunQueue', () => {
  it('runs at most the limit at once and starts waiting jobs in order', async () => {
    const { release, work, log } = gate();
    const queue = new RunQueue(2);
    const jobs = ['a', 'b', 'c', 'd'].map((name) => queue.enqueue(name, work(name)));
    await tick();
    assert.deepEqual(log, ['start a', 'start b']);
    assert.equal(queue.runningCount, 2);
    assert.deepEqual(
      queue.queued.map((job) => job.label),
      ['c', 'd'],
    );
    release();
    assert.deepEqual(await Promise.all(jobs.map((job) => job.done)), ['finished', 'finished', 'finished', 'finished']);
    assert.deepEqual(
      log.filter((line) => line.startsWith('start')),
      ['start a', 'start b', 'start c', 'start d'],
    );
  });

  it('removes a cancelled waiting job without running it', async () => {
    const { release, work, log } = gate();
    const queue = new RunQueue(1);
    const first = queue.enqueue('first', work('first'));
    const second = queue.enqueue('second', work('second'));
    second.cancel();
    assert.equal(await second.done, 'cancelled');
    release();
    assert.equal(await first.done, 'finished');
    assert.ok(!log.includes('start second'));
  });

  it('aborts a running job through its signal and starts the next', async () => {
    const { work, log } = gate();
    const queue = new RunQueue(1);
    const first = queue.enqueue('first', work('first'));
    const second = queue.enqueue('second', work('second'));
    await tick();
    first.cancel();
    assert.equal(await first.done, 'cancelled');
    await tick();
    assert.deepEqual(log, ['start first', 'end first', 'start second']);
    second.cancel();
    assert.equal(await second.done, 'cancelled');
  });

  it('keeps going after a job that throws', async () => {
    const queue = new RunQueue(1);
    const bad = queue.enqueue('bad', async () => {
      throw new Error('trainer missing');
    });
    const good = queue.enqueue('good', async () => {});
    assert.equal(await bad.done, 'finished');
    assert.equal(await good.done, 'finished');
  });

  it('treats a nonsense limit as one and starts more when the limit grows', async () => {
    const { release, work, log } = gate();
    const queue = new RunQueue(Number.NaN);
    assert.equal(queue.maxConcurrent, 1);
    queue.enqueue('a', work('a'));
    queue.enqueue('b', work('b'));
    await tick();
    assert.deepEqual(log, ['start a']);
    queue.maxConcurrent = 3;
    await tick();
    assert.deepEqual(log, ['start a', 'start b']);
    queue.maxConcurrent = 0;
    assert.equal(queue.maxConcurrent, 1);
    release();
  });

  it('cancelAll empties the queue and aborts running jobs', async () => {
    const { work } = gate();
    const queue = new RunQueue(1);
    const jobs = [queue.enqueue('a', work('a')), queue.enqueue('b', work('b'))];
    await tick();
    queue.cancelAll();
    assert.deepEqual(await Promise.all(jobs.map((job) => job.done)), ['cancelled', 'cancelled']);
    assert.equal(queue.runningCount + queue.waitingCount, 0);
  });
});
