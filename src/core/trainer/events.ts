// The trainer's JSON Lines events as types, and one tolerant classifier for raw parsed objects.
// The trainer may add fields or whole event types later; unknown ones pass through as `unknown`
// instead of failing, so an older extension keeps working with a newer trainer.

export type RunOutcome = 'completed' | 'cancelled' | 'failed';

interface EventBase {
  /** Seconds since the epoch, when the trainer stamps it. */
  time?: number;
  run_id?: string;
}

export interface RunStartedEvent extends EventBase {
  type: 'run_started';
  run_id?: string;
  run_dir?: string;
  config?: Record<string, unknown>;
  config_path?: string;
  device?: string;
  attention?: string;
  dtype?: string;
  total_steps?: number;
}

export interface ProgressEvent extends EventBase {
  type: 'progress';
  step: number;
  total_steps?: number;
  epoch?: number;
  loss?: number;
  lr?: number;
  samples_per_s?: number;
  eta_s?: number;
}

export interface EvalEvent extends EventBase {
  type: 'eval';
  step?: number;
  metrics: Record<string, number>;
}

export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  path: string;
  step?: number;
  metrics?: Record<string, number>;
  best?: boolean;
}

export interface SampleRead {
  image?: string;
  truth: string;
  prediction: string;
  confidence?: number[];
}

export interface SamplesEvent extends EventBase {
  type: 'samples';
  step?: number;
  samples: SampleRead[];
}

export interface LogEvent extends EventBase {
  type: 'log';
  level?: string;
  message: string;
}

export interface WarningEvent extends EventBase {
  type: 'warning';
  code?: string;
  message: string;
  fix?: string;
}

export interface RunFinishedEvent extends EventBase {
  type: 'run_finished';
  status: RunOutcome;
  error_code?: string;
  message?: string;
  hint?: string;
  best_checkpoint?: string;
  metrics?: Record<string, number>;
}

export interface UnknownEvent {
  type: 'unknown';
  /** The `type`/`event` name the trainer gave, if any. */
  name?: string;
  raw: unknown;
}

export type TrainerEvent =
  | RunStartedEvent
  | ProgressEvent
  | EvalEvent
  | CheckpointEvent
  | SamplesEvent
  | LogEvent
  | WarningEvent
  | RunFinishedEvent
  | UnknownEvent;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Keeps only the finite numbers of a metrics object (NaN losses become absent, not chart-breaking). */
function numberRecord(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isObject(value)) return out;
  for (const [key, entry] of Object.entries(value)) {
    const number = finite(entry);
    if (number !== undefined) out[key] = number;
  }
  return out;
}

/** First present key among synonyms, so small naming differences in the trainer do not lose data. */
function pick(source: Json, ...keys: string[]): unknown {
  for (const key of keys) if (source[key] !== undefined) return source[key];
  return undefined;
}

function optional<T extends object>(fields: T): T {
  for (const key of Object.keys(fields) as (keyof T)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}

/**
 * Turns one parsed JSON value into a typed event. Never throws: values that lack the fields an
 * event type needs come back as `unknown` with the raw value kept for the log.
 */
export function classifyEvent(raw: unknown): TrainerEvent {
  if (!isObject(raw)) return { type: 'unknown', raw };
  const name = text(pick(raw, 'type', 'event'));
  const base = optional({ time: finite(pick(raw, 'time', 'ts', 'timestamp')), run_id: text(raw.run_id) });
  switch (name) {
    case 'run_started':
      return optional({
        ...base,
        type: 'run_started' as const,
        run_dir: text(raw.run_dir),
        config: isObject(raw.config) ? raw.config : undefined,
        config_path: text(raw.config_path),
        device: text(raw.device),
        attention: text(raw.attention),
        dtype: text(pick(raw, 'dtype', 'precision')),
        total_steps: finite(pick(raw, 'total_steps', 'max_steps')),
      });
    case 'progress': {
      const step = finite(raw.step);
      if (step === undefined) break;
      return optional({
        ...base,
        type: 'progress' as const,
        step,
        total_steps: finite(pick(raw, 'total_steps', 'max_steps')),
        epoch: finite(raw.epoch),
        loss: finite(raw.loss),
        lr: finite(pick(raw, 'lr', 'learning_rate')),
        samples_per_s: finite(pick(raw, 'samples_per_s', 'samples_per_sec', 'throughput')),
        eta_s: finite(pick(raw, 'eta_s', 'eta', 'eta_seconds')),
      });
    }
    case 'eval':
      return optional({ ...base, type: 'eval' as const, step: finite(raw.step), metrics: numberRecord(raw.metrics) });
    case 'checkpoint': {
      const path = text(raw.path);
      if (path === undefined) break;
      return optional({
        ...base,
        type: 'checkpoint' as const,
        path,
        step: finite(raw.step),
        metrics: isObject(raw.metrics) ? numberRecord(raw.metrics) : undefined,
        best: typeof raw.best === 'boolean' ? raw.best : undefined,
      });
    }
    case 'samples': {
      const list = Array.isArray(raw.samples) ? raw.samples : [];
      const samples: SampleRead[] = [];
      for (const entry of list) {
        if (!isObject(entry)) continue;
        const truth = text(pick(entry, 'truth', 'label', 'target'));
        const prediction = text(pick(entry, 'prediction', 'pred'));
        if (truth === undefined || prediction === undefined) continue;
        const confidence = Array.isArray(entry.confidence) ? entry.confidence.map((c) => finite(c) ?? 0) : undefined;
        samples.push(optional({ image: text(entry.image), truth, prediction, confidence }));
      }
      return optional({ ...base, type: 'samples' as const, step: finite(raw.step), samples });
    }
    case 'log': {
      const message = text(raw.message);
      if (message === undefined) break;
      return optional({ ...base, type: 'log' as const, level: text(raw.level), message });
    }
    case 'warning': {
      const message = text(raw.message);
      if (message === undefined) break;
      return optional({ ...base, type: 'warning' as const, code: text(raw.code), message, fix: text(raw.fix) });
    }
    case 'run_finished': {
      const status = text(pick(raw, 'status', 'outcome'));
      if (status !== 'completed' && status !== 'cancelled' && status !== 'failed') break;
      const error = isObject(raw.error) ? raw.error : {};
      return optional({
        ...base,
        type: 'run_finished' as const,
        status,
        error_code: text(pick(raw, 'error_code', 'code')) ?? text(error.code),
        message: text(raw.message) ?? text(error.message),
        hint: text(raw.hint) ?? text(error.hint),
        best_checkpoint: text(raw.best_checkpoint),
        metrics: isObject(raw.metrics) ? numberRecord(raw.metrics) : undefined,
      });
    }
  }
  return optional({ type: 'unknown' as const, name, raw });
}
