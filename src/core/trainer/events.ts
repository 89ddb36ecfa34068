// The trainer's JSON Lines events as types, and one tolerant classifier for raw parsed objects.
// Field names are exactly those of schemas/trainer-events.schema.json (the one source of truth);
// the internal `type` discriminant is the schema's `event`. The trainer may add fields or whole
// event types later: extra fields are ignored and unknown events pass through as `unknown`
// instead of failing, so an older extension keeps working with a newer trainer.

export type RunOutcome = 'completed' | 'cancelled' | 'failed';

interface EventBase {
  /** Milliseconds since the epoch (the trainer writes ISO 8601 UTC). */
  time?: number;
  run_id?: string;
}

export interface RunStartedEvent extends EventBase {
  type: 'run_started';
  run_id?: string;
  run_dir?: string;
  config?: Record<string, unknown>;
  device?: string;
  attention?: string;
  dtype?: string;
  total_steps?: number;
  start_step?: number;
  resumed_from?: string;
  device_name?: string;
  /** The time budget in minutes; a run ends at whichever of total_steps and max_minutes comes first. */
  max_minutes?: number;
  /** Processes training together (data parallel); absent or 1 for a plain run. */
  world_size?: number;
  /** Baseline: where the weights started (the shipped pretrained reader, a checkpoint, random weights). */
  init_from?: string;
  /** Baseline: what feeds the model: live renders, the render cache on disk, or a labelled dataset. */
  input_path?: 'live' | 'cache' | 'labelled';
  /** Baseline: why that input path (e.g. "auto: the model on cuda outruns live rendering"). */
  input_reason?: string;
  /** Baseline: images/s the input path is expected to sustain; absent when not bound by rendering. */
  input_images_per_sec?: number;
}

/** The budget that ends a run: `max_steps` or `max_minutes`, whichever runs out first. */
export type TrainingBudget = 'steps' | 'time';

export interface ProgressEvent extends EventBase {
  type: 'progress';
  step: number;
  total_steps?: number;
  epoch?: number;
  loss?: number;
  lr?: number;
  samples_per_sec?: number;
  /** null: the trainer cannot tell yet (a previous estimate no longer holds); absent: not said. */
  eta_seconds?: number | null;
  /** How much of the binding budget is done, 0..1 (newer trainers). */
  fraction?: number;
  /** Which budget binds (newer trainers). */
  budget?: TrainingBudget;
}

export interface EvalEvent extends EventBase {
  type: 'eval';
  step?: number;
  split?: string;
  is_best?: boolean;
  metrics: Record<string, number>;
}

export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  path: string;
  step?: number;
  metrics?: Record<string, number>;
  kind?: 'last' | 'best';
}

export interface SampleRead {
  /** A `data:image/png;base64,` thumbnail; anything else is dropped (the webview's CSP allows only data: images). */
  image?: string;
  truth: string;
  prediction: string;
  confidence?: number;
}

export interface SamplesEvent extends EventBase {
  type: 'samples';
  step?: number;
  items: SampleRead[];
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
  /** error_code, message, hint, issues and command are the fields of the event's `error` object. */
  error_code?: string;
  message?: string;
  hint?: string;
  /** Every problem found (`file:line: message`), for invalid_dataset / invalid_config. */
  issues?: string[];
  /** For missing_dependency: the exact install command. */
  command?: string;
  step?: number;
  best_checkpoint?: string;
  last_checkpoint?: string;
  metrics?: Record<string, number>;
}

export interface UnknownEvent {
  type: 'unknown';
  /** The `event` name the trainer gave, if any. */
  name?: string;
  raw: unknown;
}

export type TrainerEvent =
  RunStartedEvent | ProgressEvent | EvalEvent | CheckpointEvent | SamplesEvent | LogEvent | WarningEvent | RunFinishedEvent | UnknownEvent;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const positive = (value: unknown): number | undefined => {
  const number = finite(value);
  return number !== undefined && number > 0 ? number : undefined;
};
const INPUT_PATHS = ['live', 'cache', 'labelled'] as const;
const inputPath = (value: unknown): RunStartedEvent['input_path'] => INPUT_PATHS.find((path) => path === value);
/** A fraction clamped into 0..1 (a trainer rounding to 1.0001 must not show 101 %). */
const unitInterval = (value: unknown): number | undefined => {
  const number = finite(value);
  return number === undefined ? undefined : Math.min(1, Math.max(0, number));
};

/** ISO 8601 text (what the trainer writes) as epoch milliseconds. */
function timestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const IMAGE_DATA_URL = /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+$/;

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
  const name = text(raw.event);
  const base = optional({ time: timestamp(raw.time), run_id: text(raw.run_id) });
  switch (name) {
    case 'run_started':
      return optional({
        ...base,
        type: 'run_started' as const,
        run_dir: text(raw.run_dir),
        config: isObject(raw.config) ? raw.config : undefined,
        device: text(raw.device),
        attention: text(raw.attention),
        dtype: text(raw.dtype),
        total_steps: finite(raw.total_steps),
        start_step: finite(raw.start_step),
        resumed_from: text(raw.resumed_from),
        device_name: text(raw.device_name),
        max_minutes: positive(raw.max_minutes),
        world_size: positive(raw.world_size),
        init_from: text(raw.init_from),
        input_path: inputPath(raw.input_path),
        input_reason: text(raw.input_reason),
        input_images_per_sec: positive(raw.input_images_per_sec),
      });
    case 'progress': {
      const step = finite(raw.step);
      if (step === undefined) break;
      return optional({
        ...base,
        type: 'progress' as const,
        step,
        total_steps: finite(raw.total_steps),
        epoch: finite(raw.epoch),
        loss: finite(raw.loss),
        lr: finite(raw.lr),
        samples_per_sec: finite(raw.samples_per_sec),
        eta_seconds: raw.eta_seconds === null ? null : finite(raw.eta_seconds),
        fraction: unitInterval(raw.fraction),
        budget: raw.budget === 'steps' || raw.budget === 'time' ? raw.budget : undefined,
      });
    }
    case 'eval':
      return optional({
        ...base,
        type: 'eval' as const,
        step: finite(raw.step),
        split: text(raw.split),
        metrics: numberRecord(raw.metrics),
        is_best: typeof raw.is_best === 'boolean' ? raw.is_best : undefined,
      });
    case 'checkpoint': {
      const path = text(raw.path);
      if (path === undefined) break;
      return optional({
        ...base,
        type: 'checkpoint' as const,
        path,
        step: finite(raw.step),
        metrics: isObject(raw.metrics) ? numberRecord(raw.metrics) : undefined,
        kind: raw.kind === 'last' || raw.kind === 'best' ? raw.kind : undefined,
      });
    }
    case 'samples': {
      const list = Array.isArray(raw.items) ? raw.items : [];
      const items: SampleRead[] = [];
      for (const entry of list) {
        if (!isObject(entry)) continue;
        const truth = text(entry.truth);
        const prediction = text(entry.prediction);
        if (truth === undefined || prediction === undefined) continue;
        const image = text(entry.image);
        items.push(
          optional({
            image: image && IMAGE_DATA_URL.test(image) ? image : undefined,
            truth,
            prediction,
            confidence: finite(entry.confidence),
          }),
        );
      }
      return optional({ ...base, type: 'samples' as const, step: finite(raw.step), items });
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
      const status = text(raw.status);
      if (status !== 'completed' && status !== 'cancelled' && status !== 'failed') break;
      const error = isObject(raw.error) ? raw.error : {};
      return optional({
        ...base,
        type: 'run_finished' as const,
        status,
        error_code: text(error.code),
        message: text(error.message),
        hint: text(error.hint),
        issues: Array.isArray(error.issues) ? error.issues.filter((issue): issue is string => typeof issue === 'string') : undefined,
        command: text(error.command),
        step: finite(raw.step),
        best_checkpoint: text(raw.best_checkpoint),
        last_checkpoint: text(raw.last_checkpoint),
        metrics: isObject(raw.metrics) ? numberRecord(raw.metrics) : undefined,
      });
    }
  }
  return optional({ type: 'unknown' as const, name, raw });
}
