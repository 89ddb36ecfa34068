import * as assert from 'node:assert/strict';
import { classifyEvent } from '../../../src/core/trainer/events';
import { budgetProgress, budgetProgressText, formatClock, progressMessage, stepCountText } from '../../../src/core/trainer/progress';
import { applyEvent, emptyRunState } from '../../../src/core/trainer/run-state';

const MINUTE = 60_000;

describe('progress against the binding budget', () => {
  it('reads fraction and budget from progress events and max_minutes from run_started', () => {
    assert.deepEqual(classifyEvent({ event: 'progress', step: 111, total_steps: 100000, fraction: 0.42, budget: 'time' }), {
      type: 'progress',
      step: 111,
      total_steps: 100000,
      fraction: 0.42,
      budget: 'time',
    });
    assert.deepEqual(classifyEvent({ event: 'progress', step: 1, fraction: 1.0001, budget: 'epochs' }), {
      type: 'progress',
      step: 1,
      fraction: 1,
    });
    assert.deepEqual(classifyEvent({ event: 'progress', step: 1, fraction: 'half' }), { type: 'progress', step: 1 });
    assert.deepEqual(classifyEvent({ event: 'run_started', total_steps: 10, max_minutes: 10 }), {
      type: 'run_started',
      total_steps: 10,
      max_minutes: 10,
    });
    assert.deepEqual(classifyEvent({ event: 'run_started', max_minutes: null }), { type: 'run_started' });
  });

  it("uses the trainer's fraction when it sends one: a 10-minute run capped at 100000 steps", () => {
    const state = emptyRunState('queued');
    applyEvent(state, { type: 'run_started', total_steps: 100000, max_minutes: 10 }, 0);
    applyEvent(state, { type: 'progress', step: 111, total_steps: 100000, fraction: 0.42, budget: 'time', eta_seconds: 348 });
    const progress = budgetProgress(state, 4 * MINUTE)!;
    assert.equal(progress.budget, 'time');
    assert.equal(progress.fraction, 0.42);
    assert.equal(budgetProgressText(progress), '42% · 4:12 of 10:00', 'the clock follows the trainer, not ours');
    assert.equal(progressMessage(state, 4 * MINUTE), '42% · 4:12 of 10:00 · step 111 · ETA 5m 48s');
    assert.equal(stepCountText(progress), '111', 'the step cap is not the budget: no misleading total');
  });

  it('shows a step budget as steps and percent', () => {
    const state = emptyRunState('queued');
    applyEvent(state, { type: 'run_started', total_steps: 1000, max_minutes: 60, device: 'cpu' }, 0);
    applyEvent(state, { type: 'progress', step: 420, total_steps: 1000, fraction: 0.42, budget: 'steps', loss: 0.5 });
    const progress = budgetProgress(state, 5 * MINUTE)!;
    assert.equal(budgetProgressText(progress), 'step 420/1000 · 42%');
    assert.equal(stepCountText(progress, ' / '), '420 / 1000');
    assert.equal(progressMessage(state, 5 * MINUTE), 'step 420/1000 · 42% · loss 0.5000');
  });

  it('without a fraction, takes whichever budget is further along', () => {
    const timeBound = { step: 111, totalSteps: 100000, maxMinutes: 10, startedAt: 0 };
    const progress = budgetProgress(timeBound, 4 * MINUTE + 12_000)!;
    assert.equal(progress.budget, 'time');
    assert.equal(budgetProgressText(progress), '42% · 4:12 of 10:00');
    const stepBound = { step: 900, totalSteps: 1000, maxMinutes: 30, startedAt: 0 };
    assert.equal(budgetProgressText(budgetProgress(stepBound, 3 * MINUTE)!), 'step 900/1000 · 90%');
  });

  it('falls back to steps alone, and to nothing when there is no budget to measure', () => {
    assert.equal(budgetProgressText(budgetProgress({ step: 40, totalSteps: 100 })!), 'step 40/100 · 40%');
    assert.equal(budgetProgress({ step: 40, totalSteps: 100, maxMinutes: 10 })!.budget, 'steps', 'no start time: no clock');
    assert.equal(budgetProgress({ step: 40 }), undefined);
    assert.equal(budgetProgressText(budgetProgress({ step: 3, budgetFraction: 0.5, budget: 'time' })!), '50% of the time budget');
  });

  it('measures a finished run up to its end, never past 100 %', () => {
    const finished = { step: 5000, totalSteps: 100000, maxMinutes: 10, startedAt: 0, finishedAt: 10 * MINUTE + 3000 };
    const progress = budgetProgress(finished, 60 * MINUTE)!;
    assert.equal(progress.budget, 'time');
    assert.equal(progress.fraction, 1);
    assert.equal(budgetProgressText(progress), '100% · 10:00 of 10:00');
  });

  it('never rounds a percent up to done', () => {
    assert.equal(budgetProgressText(budgetProgress({ step: 999, totalSteps: 1000 })!), 'step 999/1000 · 99%');
  });

  it('writes clocks as m:ss and h:mm:ss', () => {
    assert.equal(formatClock(0), '0:00');
    assert.equal(formatClock(252.9), '4:12');
    assert.equal(formatClock(600), '10:00');
    assert.equal(formatClock(3723), '1:02:03');
  });

  it('keeps the old messages for queued and starting runs', () => {
    assert.equal(progressMessage(emptyRunState('queued')), 'waiting for a free slot');
    assert.equal(progressMessage(emptyRunState('running')), 'starting the trainer…');
  });
});
