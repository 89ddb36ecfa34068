import * as assert from 'node:assert/strict';
import { ProgressReporter } from '../../../src/cli/train';
import type { TrainerEvent } from '../../../src/core/trainer/events';

describe('vin-ocr train progress lines', () => {
  it('reports percent of the time budget, once per new percent and at most every few seconds', () => {
    const lines: string[] = [];
    const reporter = new ProgressReporter((line) => lines.push(line));
    reporter.onEvent({ type: 'run_started', time: 0, total_steps: 100000, max_minutes: 10, device: 'cpu' }, 0);
    const progress = (step: number, fraction: number): TrainerEvent => ({
      type: 'progress',
      step,
      total_steps: 100000,
      fraction,
      budget: 'time',
    });
    reporter.onEvent(progress(10, 0.01), 6_000);
    reporter.onEvent(progress(11, 0.011), 7_000); // same percent
    reporter.onEvent(progress(20, 0.02), 8_000); // too soon
    reporter.onEvent(progress(111, 0.42), 252_000);
    reporter.onEvent(progress(300, 1), 253_000); // done is always said
    assert.deepEqual(lines, [
      'vin-ocr train: 1% · 0:06 of 10:00 · step 10',
      'vin-ocr train: 42% · 4:12 of 10:00 · step 111',
      'vin-ocr train: 100% · 10:00 of 10:00 · step 300',
    ]);
  });

  it('reports a step budget as steps and percent', () => {
    const lines: string[] = [];
    const reporter = new ProgressReporter((line) => lines.push(line));
    reporter.onEvent({ type: 'run_started', time: 0, total_steps: 1000, device: 'cpu' }, 0);
    reporter.onEvent({ type: 'progress', step: 420, total_steps: 1000, loss: 0.25, eta_seconds: 90 }, 10_000);
    assert.deepEqual(lines, ['vin-ocr train: step 420/1000 · 42% · loss 0.2500 · ETA 1m 30s']);
  });
});
