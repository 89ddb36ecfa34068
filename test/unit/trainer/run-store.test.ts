import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRuns, readRun } from '../../../src/core/trainer/run-store';
import { lowerIsBetter } from '../../../src/core/trainer/metrics';
import { applyEvent, emptyRunState } from '../../../src/core/trainer/run-state';

const line = (event: object) => `${JSON.stringify(event)}\n`;

function makeRun(root: string, id: string, events: object[], extra: Record<string, string> = {}): string {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'events.jsonl'), events.map(line).join(''));
  for (const [name, content] of Object.entries(extra)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const started = {
  event: 'run_started',
  run_id: 'x',
  time: '2026-11-28T18:00:00Z',
  device: 'cpu',
  total_steps: 10,
  config: { model: { type: 'baseline' } },
};

describe('run store', () => {
  it('reads a finished run: outcome, best metrics, checkpoints, log and TensorBoard folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vin-ocr-runs-'));
    makeRun(
      root,
      '20260101-baseline',
      [
        started,
        { event: 'progress', step: 5, loss: 1.2 },
        { event: 'eval', step: 5, metrics: { exact_match: 0.2, cer: 0.3 } },
        { event: 'eval', step: 10, metrics: { exact_match: 0.1, cer: 0.2 } },
        { event: 'eval', step: 10, split: 'test', metrics: { exact_match: 0.9 } },
        { event: 'checkpoint', path: 'checkpoints/step-10.pt', step: 10, kind: 'best' },
        { event: 'run_finished', status: 'completed', time: '2026-11-28T18:01:30.000Z' },
      ],
      { 'train.log': 'INFO\n', 'checkpoints/step-5.pt': 'x', 'tensorboard/events.out.tfevents.1.host': '' },
    );
    const [run] = await listRuns(root);
    assert.ok(run);
    assert.equal(run.status, 'completed');
    assert.equal(run.modelType, 'baseline');
    assert.deepEqual(run.bestMetrics, { exact_match: 0.2, cer: 0.2 });
    assert.deepEqual(run.testMetrics, { exact_match: 0.9 });
    assert.equal(run.finishedAt! - run.startedAt!, 90_000);
    assert.equal(run.bestCheckpoint, 'checkpoints/step-10.pt');
    assert.ok(run.checkpoints.some((checkpoint) => checkpoint.path.endsWith('step-5.pt')));
    assert.equal(run.logFile, join(root, '20260101-baseline', 'train.log'));
    assert.equal(run.tensorboardDir, join(root, '20260101-baseline', 'tensorboard'));
  });

  it('marks a run without a final event failed once it is stale, running while fresh', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vin-ocr-runs-'));
    const crashed = makeRun(root, 'crashed', [started, { event: 'progress', step: 3 }]);
    const old = Date.now() / 1000 - 3600;
    utimesSync(join(crashed, 'events.jsonl'), old, old);
    makeRun(root, 'live', [started, { event: 'progress', step: 3 }]);
    const runs = await listRuns(root);
    const byId = Object.fromEntries(runs.map((run) => [run.id, run]));
    assert.equal(byId.crashed!.status, 'failed');
    assert.equal(byId.crashed!.errorCode, 'no_final_event');
    assert.equal(byId.live!.status, 'running');
  });

  it('ignores folders that are not runs, garbage lines and a missing output folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vin-ocr-runs-'));
    mkdirSync(join(root, 'not-a-run'));
    writeFileSync(join(root, 'stray.txt'), 'x');
    const dir = join(root, 'messy');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'events.jsonl'),
      `garbage\n${line(started)}{"event":"progress","st\n${line({ event: 'run_finished', status: 'cancelled' })}`,
    );
    writeFileSync(join(dir, 'metrics.json'), '{"step": 9, "val": {"exact_match": 0.4, "cer": 0.1}, "test": {}}');
    const runs = await listRuns(root);
    assert.deepEqual(
      runs.map((run) => run.id),
      ['messy'],
    );
    assert.equal(runs[0]!.status, 'cancelled');
    assert.deepEqual(runs[0]!.bestMetrics, { exact_match: 0.4, cer: 0.1 }, 'bookkeeping numbers are not metrics');
    assert.deepEqual(await listRuns(join(root, 'missing')), []);
  });

  it('reads only head and tail of a huge events file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vin-ocr-runs-'));
    const progress = Array.from({ length: 20_000 }, (_, index) =>
      line({ event: 'progress', step: index + 1, total_steps: 20_000, loss: 1 }),
    );
    const dir = join(root, 'big');
    mkdirSync(dir);
    writeFileSync(join(dir, 'events.jsonl'), line(started) + progress.join('') + line({ event: 'run_finished', status: 'completed' }));
    const run = await readRun(dir, 'big', { maxEventBytes: 300 * 1024 });
    assert.ok(run);
    assert.equal(run.status, 'completed');
    assert.equal(run.step, 20_000);
    assert.equal(run.device, 'cpu');
    assert.ok(run.eventCount < 20_000, `read ${run.eventCount} events`);
  });
});

describe('run state', () => {
  it('knows which metrics improve downwards', () => {
    assert.ok(lowerIsBetter('cer') && lowerIsBetter('val_loss') && lowerIsBetter('ned'));
    assert.ok(!lowerIsBetter('exact_match') && !lowerIsBetter('char_f1') && !lowerIsBetter('pos_09_acc'));
  });

  it("keeps the trainer's best evaluation together instead of mixing metrics across steps", () => {
    const state = emptyRunState();
    applyEvent(state, { type: 'eval', step: 3, is_best: true, metrics: { exact_match: 0.5, precision: 0.9 } });
    applyEvent(state, { type: 'eval', step: 6, is_best: false, metrics: { exact_match: 0.4, precision: 0.95 } });
    assert.deepEqual(state.bestMetrics, { exact_match: 0.5, precision: 0.9 });
    assert.deepEqual(state.lastMetrics, { exact_match: 0.4, precision: 0.95 });
    applyEvent(state, { type: 'checkpoint', path: '/r/last.pt', step: 3 });
    applyEvent(state, { type: 'checkpoint', path: '/r/last.pt', step: 6 });
    assert.deepEqual(state.checkpoints, [{ path: '/r/last.pt', step: 6 }]);
  });

  it('follows a live run event by event', () => {
    const state = emptyRunState('queued');
    applyEvent(state, { type: 'run_started', total_steps: 100, device: 'cuda' }, 1000);
    assert.equal(state.status, 'running');
    applyEvent(state, { type: 'progress', step: 40, loss: 0.7, eta_seconds: 30 });
    assert.equal(state.etaSeconds, 30);
    applyEvent(state, { type: 'progress', step: 41, loss: 0.7 });
    assert.equal(state.etaSeconds, 30, 'a progress event without an estimate keeps the last one');
    applyEvent(state, { type: 'progress', step: 42, loss: 0.7, eta_seconds: null });
    assert.equal(state.etaSeconds, undefined, 'null: the trainer no longer knows, so no stale estimate is shown');
    applyEvent(state, { type: 'run_finished', status: 'failed', error_code: 'out_of_memory' }, 5000);
    assert.equal(state.status, 'failed');
    assert.equal(state.errorCode, 'out_of_memory');
    assert.equal(state.step, 42);
    assert.equal(state.etaSeconds, undefined);
  });
});
