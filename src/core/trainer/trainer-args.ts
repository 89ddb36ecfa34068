// The trainer's command line in one place: `python -m vin_ocr train|evaluate|predict …`.
// Events always go to stdout (`--events -`); the human log stays on stderr.

import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ADAPTER_CONFIG_FILE, CHECKPOINT_EXTENSION, CHECKPOINT_SUMMARY_FILE, DEFAULT_OUTPUT_DIR } from './run-layout';

export type DeviceChoice = 'auto' | 'cuda' | 'mps' | 'cpu';

export interface TrainOptions {
  /** A run directory or a checkpoint file: the trainer continues that run. */
  resumeFrom?: string;
  device?: DeviceChoice;
  maxSteps?: number;
  maxMinutes?: number;
}

export function trainArgs(configPath: string, options: TrainOptions = {}): string[] {
  const args = ['train', configPath, '--events', '-'];
  if (options.resumeFrom) args.push('--resume', options.resumeFrom);
  if (options.device) args.push('--device', options.device);
  if (options.maxSteps !== undefined) args.push('--max-steps', String(options.maxSteps));
  if (options.maxMinutes !== undefined) args.push('--max-minutes', String(options.maxMinutes));
  return args;
}

/**
 * `vin-ocr train …` (the bundled CLI, after `node cli.js`) for the same run: VS Code tasks start
 * training this way, so the CLI's launcher, crash reading and cancel-on-hang-up apply to them too.
 */
export function cliTrainArgs(
  cliPath: string,
  python: string,
  configPath: string,
  options: Pick<TrainOptions, 'resumeFrom' | 'device'> = {},
): string[] {
  const args = [cliPath, 'train', configPath, '--python', python];
  if (options.resumeFrom) args.push('--resume', options.resumeFrom);
  if (options.device) args.push('--device', options.device);
  return args;
}

export function evaluateArgs(checkpoint: string, labels: string): string[] {
  return ['evaluate', '--checkpoint', checkpoint, '--labels', labels, '--json'];
}

export function predictArgs(checkpoint: string, images: readonly string[]): string[] {
  return ['predict', '--checkpoint', checkpoint, '--json', ...images];
}

/** The images `predict` reads (for the open dialog; any other file is still handed over, and the trainer says if it cannot read it). */
export const IMAGE_EXTENSIONS: readonly string[] = ['png', 'jpg', 'jpeg', 'bmp', 'webp', 'tif', 'tiff'];

/**
 * The `--checkpoint` a path names, or undefined when it names none (then it is an image to read).
 * `evaluate` and `predict` take a baseline `.pt` file, a fine-tuning checkpoint folder
 * (`<run>/checkpoints/best/`), a bare LoRA adapter folder and a run folder (its best checkpoint), so:
 * a `.pt` file is itself; every folder is itself (the trainer tells which kind, and says so when it
 * holds no checkpoint); the summary or adapter config inside a checkpoint folder stands for its
 * folder; any other file is not a checkpoint.
 */
export function checkpointTarget(path: string, isFolder: boolean): string | undefined {
  if (isFolder) return path;
  const name = basename(path);
  if (name.toLowerCase().endsWith(CHECKPOINT_EXTENSION)) return path;
  if (name === CHECKPOINT_SUMMARY_FILE || name === ADAPTER_CONFIG_FILE) return dirname(path);
  return undefined;
}

/** What a fine-tuning checkpoint's summary file (`checkpoint.json`) says about it, as far as it is readable. */
export interface CheckpointSummary {
  /** The model family, the config's `model.type` (`lfm2-vl`, `deepseek-ocr` …). */
  family?: string;
  step?: number;
  modelId?: string;
  /** `lora` or `full`. */
  finetune?: string;
}

/** Parses `checkpoint.json` defensively: a broken or foreign file gives an empty summary, never a throw. */
export function parseCheckpointSummary(text: string): CheckpointSummary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const config = typeof record.config === 'object' && record.config !== null ? (record.config as Record<string, unknown>) : {};
  const model = typeof config.model === 'object' && config.model !== null ? (config.model as Record<string, unknown>) : {};
  const nonEmpty = (entry: unknown) => (typeof entry === 'string' && entry ? entry : undefined);
  const summary: CheckpointSummary = {};
  const family = nonEmpty(record.family) ?? nonEmpty(model.type);
  if (family) summary.family = family;
  if (typeof record.step === 'number' && Number.isFinite(record.step)) summary.step = record.step;
  const modelId = nonEmpty(model.model_id);
  if (modelId) summary.modelId = modelId;
  const finetune = nonEmpty(model.finetune);
  if (finetune) summary.finetune = finetune;
  return summary;
}

/**
 * The model a checkpoint holds, for the checkpoint picker: `baseline` for a `.pt` file (only the
 * baseline writes those), else the summary's family and kind of fine-tuning (`lfm2-vl LoRA`, step),
 * or `fine-tuned` when the summary could not be read.
 */
export function describeCheckpointModel(folder: boolean, summary: CheckpointSummary = {}): string {
  if (!folder) return 'baseline';
  const kind = summary.finetune === 'lora' ? 'LoRA' : summary.finetune === 'full' ? 'full fine-tune' : undefined;
  const model = [summary.family ?? 'fine-tuned', kind].filter(Boolean).join(' ');
  return summary.step === undefined ? model : `${model} · step ${summary.step}`;
}

const SPECIAL_SOURCES = new Set(['synthetic']);

/** Keys to change per config section, e.g. `{ training: { batch_size: 1 } }` or `{ model: { attn_implementation: 'sdpa' } }`. */
export type ConfigChanges = Partial<Record<'model' | 'training', Record<string, unknown>>>;

/**
 * A copy of a config with keys changed (the trainer has no --batch-size flag) that can live anywhere:
 * relative data paths and output_dir are made absolute against the original's folder, so the runs
 * still land next to the original config's other runs.
 */
export function derivedConfig(originalPath: string, data: Record<string, unknown>, changes: ConfigChanges): string {
  const base = dirname(originalPath);
  const absolute = (value: unknown) =>
    typeof value === 'string' && !SPECIAL_SOURCES.has(value) && !isAbsolute(value) ? resolve(base, value) : value;
  const copy = structuredClone(data);
  const dataSection = copy.data;
  if (typeof dataSection === 'object' && dataSection !== null) {
    const sources = dataSection as Record<string, unknown>;
    for (const key of ['train', 'val', 'test']) if (key in sources) sources[key] = absolute(sources[key]);
  }
  copy.output_dir = absolute(typeof copy.output_dir === 'string' ? copy.output_dir : DEFAULT_OUTPUT_DIR);
  const described: string[] = [];
  for (const [section, keys] of Object.entries(changes)) {
    const current = copy[section];
    copy[section] = { ...(typeof current === 'object' && current !== null ? current : {}), ...keys };
    for (const [key, value] of Object.entries(keys ?? {})) described.push(`${section}.${key}=${String(value)}`);
  }
  return `# Derived from ${originalPath} by VIN OCR (retry with ${described.join(', ')})\n${stringify(copy)}`;
}

/** One image's read, as `predict --json` prints it. */
export interface PredictResult {
  image: string;
  vin?: string;
  confidence?: number;
  characters?: { char: string; confidence: number }[];
  error?: string;
}

/** Parses `predict --json` output defensively: anything malformed becomes an error entry, never a throw. */
export function parsePredictOutput(stdout: string): PredictResult[] | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return { error: `the trainer printed no JSON: ${stdout.slice(0, 200)}` };
  }
  if (!Array.isArray(value)) {
    const error = (value as { error?: { message?: unknown; hint?: unknown } } | null)?.error;
    if (error && typeof error.message === 'string')
      return { error: typeof error.hint === 'string' ? `${error.message} (${error.hint})` : error.message };
    return { error: 'unexpected output from predict' };
  }
  return value.map((entry): PredictResult => {
    const record = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const characters = Array.isArray(record.characters)
      ? record.characters
          .filter((c): c is { char: string; confidence: number } => typeof c?.char === 'string' && typeof c?.confidence === 'number')
          .map((c) => ({ char: c.char, confidence: c.confidence }))
      : undefined;
    return {
      image: typeof record.image === 'string' ? record.image : '?',
      vin: typeof record.vin === 'string' ? record.vin : undefined,
      confidence: typeof record.confidence === 'number' ? record.confidence : undefined,
      characters,
      error: typeof record.error === 'string' ? record.error : undefined,
    };
  });
}
