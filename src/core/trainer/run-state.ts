// Folds a run's events into what the UI shows: status, progress, best metrics, checkpoints.
// The same fold serves a live run (event by event) and a finished one read back from disk.

import type { RunOutcome, SampleRead, TrainerEvent, TrainingBudget } from './events';
import { isBetter } from './metrics';

export type RunStatus = 'queued' | 'running' | RunOutcome;

export interface RunState {
  runId?: string;
  runDir?: string;
  configPath?: string;
  modelType?: string;
  device?: string;
  attention?: string;
  dtype?: string;
  status: RunStatus;
  startedAt?: number;
  finishedAt?: number;
  step: number;
  totalSteps?: number;
  /** The time budget; the run ends at whichever of totalSteps and maxMinutes comes first. */
  maxMinutes?: number;
  /** The trainer's fraction of the binding budget (newer trainers), see progress.ts. */
  budgetFraction?: number;
  budget?: TrainingBudget;
  epoch?: number;
  loss?: number;
  lr?: number;
  samplesPerSecond?: number;
  etaSeconds?: number;
  /** The most recent eval metrics. */
  lastMetrics: Record<string, number>;
  /** Metrics on the held-out test split, when the config has one. */
  testMetrics?: Record<string, number>;
  /** True once the trainer marks evaluations with is_best (then bestMetrics is that evaluation's set). */
  bestFromTrainer?: boolean;
  /** Metrics of the best evaluation; without is_best marks, the best value seen per metric. */
  bestMetrics: Record<string, number>;
  checkpoints: { path: string; step?: number }[];
  bestCheckpoint?: string;
  samples: SampleRead[];
  warnings: { code?: string; message: string; fix?: string }[];
  errorCode?: string;
  errorMessage?: string;
  hint?: string;
  issues?: string[];
  installCommand?: string;
  lastCheckpoint?: string;
  eventCount: number;
}

export function emptyRunState(status: RunStatus = 'running'): RunState {
  return { status, step: 0, lastMetrics: {}, bestMetrics: {}, checkpoints: [], samples: [], warnings: [], eventCount: 0 };
}

const MAX_KEPT_WARNINGS = 50;
const MAX_KEPT_SAMPLES = 16;

/** Applies one event to the state in place (cheap enough for thousands of events a second). */
export function applyEvent(state: RunState, event: TrainerEvent, now = Date.now()): RunState {
  state.eventCount += 1;
  switch (event.type) {
    case 'run_started': {
      state.runId = event.run_id ?? state.runId;
      state.runDir = event.run_dir ?? state.runDir;
      const model = event.config?.model;
      if (typeof model === 'object' && model !== null && typeof (model as { type?: unknown }).type === 'string') {
        state.modelType = (model as { type: string }).type;
      }
      state.device = event.device ?? state.device;
      state.attention = event.attention ?? state.attention;
      state.dtype = event.dtype ?? state.dtype;
      state.totalSteps = event.total_steps ?? state.totalSteps;
      if (event.max_minutes !== undefined) state.maxMinutes = event.max_minutes;
      state.step = event.start_step ?? state.step;
      state.startedAt = event.time ?? state.startedAt ?? now;
      if (state.status === 'queued') state.status = 'running';
      break;
    }
    case 'progress':
      state.step = event.step;
      state.totalSteps = event.total_steps ?? state.totalSteps;
      state.epoch = event.epoch ?? state.epoch;
      state.loss = event.loss ?? state.loss;
      state.lr = event.lr ?? state.lr;
      state.samplesPerSecond = event.samples_per_sec ?? state.samplesPerSecond;
      if (event.eta_seconds !== undefined) state.etaSeconds = event.eta_seconds ?? undefined;
      if (event.fraction !== undefined) state.budgetFraction = event.fraction;
      if (event.budget !== undefined) state.budget = event.budget;
      break;
    case 'eval':
      if (event.split === 'test') {
        // The test split is scored once at the end; best-of and charts track validation only.
        state.testMetrics = { ...event.metrics };
        break;
      }
      state.lastMetrics = { ...event.metrics };
      if (event.is_best !== undefined) {
        // The trainer says which evaluation is best (its best checkpoint): keep that one's metrics together.
        state.bestFromTrainer = true;
        if (event.is_best) state.bestMetrics = { ...event.metrics };
      } else if (!state.bestFromTrainer) {
        for (const [metric, value] of Object.entries(event.metrics)) {
          const best = state.bestMetrics[metric];
          if (best === undefined || isBetter(metric, value, best)) state.bestMetrics[metric] = value;
        }
      }
      if (event.step !== undefined && event.step > state.step) state.step = event.step;
      break;
    case 'checkpoint':
      {
        // last.pt is rewritten at every save: one entry per file, with the newest step.
        const known = state.checkpoints.find((checkpoint) => checkpoint.path === event.path);
        if (known) known.step = event.step ?? known.step;
        else state.checkpoints.push(event.step === undefined ? { path: event.path } : { path: event.path, step: event.step });
      }
      if (event.kind === 'best') state.bestCheckpoint = event.path;
      else state.lastCheckpoint = event.path;
      break;
    case 'samples':
      state.samples = event.items.slice(-MAX_KEPT_SAMPLES);
      break;
    case 'warning':
      if (state.warnings.length < MAX_KEPT_WARNINGS) state.warnings.push({ code: event.code, message: event.message, fix: event.fix });
      break;
    case 'run_finished':
      state.status = event.status;
      state.finishedAt = event.time ?? now;
      state.errorCode = event.error_code;
      state.errorMessage = event.message;
      state.hint = event.hint;
      state.issues = event.issues;
      state.installCommand = event.command;
      state.lastCheckpoint = event.last_checkpoint ?? state.lastCheckpoint;
      if (event.step !== undefined) state.step = Math.max(state.step, event.step);
      state.bestCheckpoint = event.best_checkpoint ?? state.bestCheckpoint;
      if (event.metrics) for (const [metric, value] of Object.entries(event.metrics)) state.bestMetrics[metric] ??= value;
      state.etaSeconds = undefined;
      break;
    case 'log':
    case 'unknown':
      break;
  }
  return state;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}
