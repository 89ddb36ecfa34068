// The trainer's command line in one place: `python -m vin_ocr train|evaluate|predict …`.
// Events always go to stdout (`--events -`); the human log stays on stderr.

import { dirname, isAbsolute, resolve } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_OUTPUT_DIR } from './run-layout';

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
