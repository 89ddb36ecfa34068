// How far a run is, measured against the budget that ends it. A run stops at whichever of
// `max_steps` and `max_minutes` comes first, so "step 111/100000" says little about a 10-minute
// run: what matters is the binding budget. Newer trainers say it themselves (`fraction` and
// `budget` on progress events); for older ones we estimate it from the step and the clock.
// Plain data and functions only: the Training view's webview bundles this file too.

import type { TrainingBudget } from './events';
import { EXACT_MATCH, formatMetric } from './metrics';
import { formatDuration, type RunState } from './run-state';

/** The part of a run's state progress is computed from (RunState has all of it). */
export interface ProgressInput {
  step: number;
  totalSteps?: number;
  maxMinutes?: number;
  /** The trainer's own fraction of the binding budget, from its latest progress event. */
  budgetFraction?: number;
  budget?: TrainingBudget;
  startedAt?: number;
  finishedAt?: number;
}

export interface BudgetProgress {
  /** The budget that ends the run first. */
  budget: TrainingBudget;
  /** How much of it is done, 0..1. */
  fraction: number;
  step: number;
  totalSteps?: number;
  /** Training time so far, in seconds, when known. */
  elapsedSeconds?: number;
  /** The time budget in seconds, when the run has one. */
  limitSeconds?: number;
}

const clamp = (value: number) => Math.min(1, Math.max(0, value));

function elapsedSeconds(input: ProgressInput, now: number): number | undefined {
  if (input.startedAt === undefined) return undefined;
  return Math.max(0, ((input.finishedAt ?? now) - input.startedAt) / 1000);
}

/** Whichever budget is further along; undefined when neither is known. */
function furtherBudget(stepFraction: number | undefined, timeFraction: number | undefined): TrainingBudget | undefined {
  if (timeFraction !== undefined && (stepFraction === undefined || timeFraction > stepFraction)) return 'time';
  return stepFraction !== undefined ? 'steps' : undefined;
}

/**
 * Progress against the binding budget: the trainer's `fraction` when it sent one; else whichever
 * of step/total_steps and elapsed/max_minutes is further; else step/total_steps; else unknown.
 */
export function budgetProgress(input: ProgressInput, now = Date.now()): BudgetProgress | undefined {
  const { step, totalSteps } = input;
  const limitSeconds = input.maxMinutes && input.maxMinutes > 0 ? input.maxMinutes * 60 : undefined;
  const clock = elapsedSeconds(input, now);
  const stepFraction = totalSteps && totalSteps > 0 ? clamp(step / totalSteps) : undefined;
  const timeFraction = limitSeconds !== undefined && clock !== undefined ? clamp(clock / limitSeconds) : undefined;
  const base = { step, totalSteps, limitSeconds };
  if (input.budgetFraction !== undefined) {
    const fraction = clamp(input.budgetFraction);
    const budget = input.budget ?? furtherBudget(stepFraction, timeFraction) ?? 'steps';
    // The trainer's clock excludes set-up and counts earlier sessions of a resumed run: trust it over ours.
    const elapsed = budget === 'time' && limitSeconds !== undefined ? fraction * limitSeconds : clock;
    return withoutUndefined({ ...base, budget, fraction, elapsedSeconds: elapsed });
  }
  const budget = furtherBudget(stepFraction, timeFraction);
  if (budget === undefined) return undefined;
  if (budget === 'steps') return withoutUndefined({ ...base, budget, fraction: stepFraction!, elapsedSeconds: clock });
  // Past the budget the trainer only evaluates and saves: the budget itself is used up, no more.
  return withoutUndefined({ ...base, budget, fraction: timeFraction!, elapsedSeconds: Math.min(clock!, limitSeconds!) });
}

function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

/** Whole percent, never rounded up: 99.6 % is not done. */
export function percentOf(progress: BudgetProgress): number {
  return Math.floor(progress.fraction * 100 + 1e-9);
}

/** Seconds as a clock: 4:12, 10:00, 1:02:03. */
export function formatClock(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** `42% · 4:12 of 10:00` for a time budget, `step 420/1000 · 42%` for a step budget. */
export function budgetProgressText(progress: BudgetProgress): string {
  const percent = `${percentOf(progress)}%`;
  if (progress.budget === 'time') {
    if (progress.limitSeconds === undefined) return `${percent} of the time budget`;
    const elapsed = progress.elapsedSeconds ?? progress.fraction * progress.limitSeconds;
    return `${percent} · ${formatClock(elapsed)} of ${formatClock(progress.limitSeconds)}`;
  }
  return `step ${stepCountText(progress)} · ${percent}`;
}

/**
 * The step count with its total only when the step budget is the one that ends the run:
 * `420/1000`, but just `111` for a 10-minute run capped at 100000 steps.
 */
export function stepCountText(input: Pick<BudgetProgress, 'step' | 'totalSteps'> & { budget?: TrainingBudget }, separator = '/'): string {
  if (input.budget === 'time' || !input.totalSteps) return String(input.step);
  return `${input.step}${separator}${input.totalSteps}`;
}

/** Whole percent of the binding budget, or undefined while it is unknown. */
export function budgetPercent(input: ProgressInput, now = Date.now()): number | undefined {
  const progress = budgetProgress(input, now);
  return progress ? percentOf(progress) : undefined;
}

/**
 * One line about a live run, the same in the notification, the status-bar tooltip and the CLI:
 * "step 120/2000 · 6% · loss 0.4312 · ETA 1m 20s", or for a time budget
 * "42% · 4:12 of 10:00 · step 111 · loss 0.4312 · ETA 5m 48s".
 */
export function progressMessage(state: RunState, now = Date.now()): string {
  if (state.status === 'queued') return 'waiting for a free slot';
  if (state.step === 0 && state.device === undefined) return 'starting the trainer…';
  const progress = budgetProgress(state, now);
  const parts: string[] = [progress ? budgetProgressText(progress) : `step ${state.step}`];
  if (progress?.budget === 'time') parts.push(`step ${state.step}`);
  if (state.loss !== undefined) parts.push(`loss ${state.loss.toFixed(4)}`);
  const accuracy = state.lastMetrics[EXACT_MATCH];
  if (accuracy !== undefined) parts.push(`exact ${formatMetric(EXACT_MATCH, accuracy)}`);
  if (state.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(state.etaSeconds * 1000)}`);
  return parts.join(' · ');
}
