// The trainer's command line in one place: `python -m vin_ocr train|evaluate|predict|export …`.
// Events always go to stdout (`--events -`); the human log stays on stderr.

import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { formatPercent } from './metrics';
import { ADAPTER_CONFIG_FILE, CHECKPOINT_EXTENSION, CHECKPOINT_SUMMARY_FILE, DEFAULT_OUTPUT_DIR, RUN_FILES } from './run-layout';

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
  options: Pick<TrainOptions, 'resumeFrom' | 'device'> & { paddlePython?: string; deepseekPython?: string } = {},
): string[] {
  const args = [cliPath, 'train', configPath, '--python', python];
  if (options.resumeFrom) args.push('--resume', options.resumeFrom);
  if (options.device) args.push('--device', options.device);
  // The window's PaddleOCR environment, so a task's trainer gets the same VIN_OCR_PADDLE_PYTHON as "VIN OCR: Train".
  if (options.paddlePython) args.push('--paddle-python', options.paddlePython);
  // The window's DeepSeek-OCR environment, which a deepseek-ocr config's trainer runs with (as with "VIN OCR: Train").
  if (options.deepseekPython) args.push('--deepseek-python', options.deepseekPython);
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

/** The formats `export` writes (docs/export.md); only the baseline exports, and only to ONNX. */
export type ExportFormat = 'onnx';

/** What an ONNX export folder holds (trainer/vin_ocr/export/manifest.py). */
export const EXPORT_FILES = { model: 'model.onnx', manifest: 'vin-ocr-model.json' } as const;

/** The trainer's error code for a checkpoint whose family has no ONNX export (exit 2: nothing failed, it is not possible). */
export const EXPORT_NOT_AVAILABLE = 'export_not_available';

export interface ExportOptions {
  format?: ExportFormat;
  /** Held-out synthetic images the parity check reads with both engines (the trainer's default when unset). */
  paritySize?: number;
}

export function exportArgs(checkpoint: string, output: string, options: ExportOptions = {}): string[] {
  const args = ['export', '--checkpoint', checkpoint, '--format', options.format ?? 'onnx', '--output', output];
  if (options.paritySize !== undefined) args.push('--parity-size', String(options.paritySize));
  args.push('--json');
  return args;
}

/** The run a checkpoint belongs to (`<run>/checkpoints/best.pt` or `<run>/checkpoints/best/`), or undefined outside a run. */
export function runFolderOfCheckpoint(checkpoint: string): string | undefined {
  const path = checkpoint.replace(/[\\/]+$/, '');
  const folder = dirname(path);
  return basename(folder) === RUN_FILES.checkpoints && basename(path) !== '' ? dirname(folder) : undefined;
}

/** Where a run's export goes unless the user chooses otherwise: `<run>/export/onnx`, beside fine-tuning's `export/merged`. */
export function defaultExportFolder(runDir: string, format: ExportFormat = 'onnx'): string {
  return join(runDir, 'export', format);
}

/** The parity check's result (`parity` in `export --json`): PyTorch fp32 and ONNX Runtime reading the same held-out images. */
export interface ExportParity {
  size: number;
  identical: number;
  /** identical / size, 0..1. */
  identicalShare: number;
  /** The share of identical reads a passing export needs (0.995). */
  threshold: number;
  passed: boolean;
  /** The largest absolute difference of the two engines' log-probabilities. */
  maxAbsLogProbDiff: number;
  seed?: number;
  exactMatchTorch?: number;
  exactMatchOnnx?: number;
}

/** `export --json` when the files were written (also when the parity check failed: they stay for inspection). */
export interface ExportResult {
  model: string;
  manifest: string;
  checkpoint: string;
  step?: number;
  opset?: number;
  parity: ExportParity;
}

export type ExportOutcome =
  | { kind: 'exported'; result: ExportResult }
  /** The checkpoint's family has no ONNX export; `hint` says what to use instead. */
  | { kind: 'not-available'; message: string; hint?: string }
  /** `command` is the install command of a `missing_dependency`. */
  | { kind: 'failed'; code?: string; message: string; hint?: string; command?: string };

type JsonRecord = Record<string, unknown>;

function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

function parseParity(value: unknown): ExportParity | undefined {
  const record = asRecord(value);
  const size = finite(record?.size);
  const identical = finite(record?.identical);
  const maxAbsLogProbDiff = finite(record?.max_abs_log_prob_diff);
  if (!record || size === undefined || identical === undefined || maxAbsLogProbDiff === undefined) return undefined;
  const identicalShare = finite(record.identical_share) ?? (size > 0 ? identical / size : 0);
  const threshold = finite(record.threshold) ?? 0.995;
  const parity: ExportParity = {
    size,
    identical,
    identicalShare,
    threshold,
    passed: typeof record.passed === 'boolean' ? record.passed : identicalShare >= threshold,
    maxAbsLogProbDiff,
  };
  const seed = finite(record.seed);
  if (seed !== undefined) parity.seed = seed;
  const torch = finite(record.exact_match_torch);
  if (torch !== undefined) parity.exactMatchTorch = torch;
  const onnx = finite(record.exact_match_onnx);
  if (onnx !== undefined) parity.exactMatchOnnx = onnx;
  return parity;
}

/** Parses `export --json` defensively: the result, the refusal of a vision-language checkpoint, or an error; never a throw. */
export function parseExportOutput(stdout: string): ExportOutcome {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return { kind: 'failed', message: `the trainer printed no JSON: ${stdout.slice(0, 200)}` };
  }
  const record = asRecord(value);
  const error = asRecord(record?.error);
  if (error) {
    const message = text(error.message) ?? 'the export failed';
    const hint = text(error.hint);
    const code = text(error.code);
    if (code === EXPORT_NOT_AVAILABLE) return hint ? { kind: 'not-available', message, hint } : { kind: 'not-available', message };
    const failed: ExportOutcome = { kind: 'failed', message };
    if (code) failed.code = code;
    if (hint) failed.hint = hint;
    const command = text(error.command);
    if (command) failed.command = command;
    return failed;
  }
  const parity = parseParity(record?.parity);
  const model = text(record?.model);
  const manifest = text(record?.manifest);
  if (!record || !parity || !model || !manifest) return { kind: 'failed', message: 'unexpected output from export' };
  const result: ExportResult = { model, manifest, checkpoint: text(record.checkpoint) ?? '?', parity };
  const step = finite(record.step);
  if (step !== undefined) result.step = step;
  const opset = finite(record.opset);
  if (opset !== undefined) result.opset = opset;
  return { kind: 'exported', result };
}

/** `500/500 reads identical (100.0%), largest log-prob difference 2.4e-5`: the parity check in one line. */
export function describeParity(parity: ExportParity): string {
  const diff = parity.maxAbsLogProbDiff === 0 ? '0' : parity.maxAbsLogProbDiff.toExponential(1);
  const share = formatPercent(parity.identicalShare) + (parity.passed ? '' : `, needs ${formatPercent(parity.threshold)}`);
  return `${parity.identical}/${parity.size} reads identical (${share}), largest log-prob difference ${diff}`;
}
