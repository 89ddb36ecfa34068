// What a run directory holds, as the trainer writes it (trainer/vin_ocr/training/harness.py and
// run_files.py, and each family's checkpoints): `<output_dir>/<run-id>/` with events.jsonl,
// train.log, metrics.json, config.yaml (the resolved config: every default filled in, so a resume is
// the same run), TensorBoard event files and checkpoints/: best.pt and last.pt for the baseline, the
// folders best/ and last/ (each with checkpoint.json) for the fine-tuned vision-language models.
// Every reader of run folders takes the names from here.

import { basename, dirname, join } from 'node:path';

/** Where runs go when a config names no `output_dir` (relative to the config's folder). */
export const DEFAULT_OUTPUT_DIR = 'runs';

export const RUN_FILES = {
  /** The event stream (schemas/trainer-events.schema.json), one JSON object per line. */
  events: 'events.jsonl',
  /** The trainer's human-readable log. */
  log: 'train.log',
  /** Written at the end: the best checkpoint's validation metrics (`val`) and the test metrics (`test`). */
  metrics: 'metrics.json',
  /** The resolved config the run trained with. */
  config: 'config.yaml',
  /** The folder with the checkpoints. */
  checkpoints: 'checkpoints',
  /** A cloud run's record (cluster, job, instance, state), written by the extension, not the trainer (src/core/cloud/cloud-run.ts). */
  cloud: 'cloud.json',
} as const;

/** The baseline's checkpoints: single files (training/checkpoints.py). */
export const CHECKPOINT_FILES = { best: 'best.pt', last: 'last.pt' } as const;
export const CHECKPOINT_EXTENSION = '.pt';
/** A fine-tuning run's checkpoints: folders with the adapter (or the full model) and the trainer's state (models/hf/checkpoint.py). */
export const CHECKPOINT_FOLDERS = { best: 'best', last: 'last' } as const;
/** In a fine-tuning checkpoint folder: its family, step and resolved config, as JSON. */
export const CHECKPOINT_SUMMARY_FILE = 'checkpoint.json';
/** A PaddleOCR run's checkpoints: JSON records naming its PaddleOCR weights (trainer/vin_ocr/families/paddleocr/model_files.py). */
export const PADDLE_CHECKPOINT_FILES = { best: 'best.json', last: 'last.json' } as const;
/** In a LoRA adapter folder (peft's), also one without the trainer's files: names the base model. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** The files whose presence makes a folder a run (either is enough: metrics.json alone is an older run). */
export const RUN_MARKER_FILES: readonly string[] = [RUN_FILES.events, RUN_FILES.metrics];

/** Workspace globs (VS Code's findFiles and file watchers). */
export const RUN_MARKER_GLOB = `**/{${RUN_MARKER_FILES.join(',')}}`;
export const CHECKPOINT_GLOB = `**/${RUN_FILES.checkpoints}/*${CHECKPOINT_EXTENSION}`;
const BEST_OR_LAST = `{${CHECKPOINT_FOLDERS.best},${CHECKPOINT_FOLDERS.last}}`;
export const PADDLE_CHECKPOINT_GLOB = `**/${RUN_FILES.checkpoints}/{${PADDLE_CHECKPOINT_FILES.best},${PADDLE_CHECKPOINT_FILES.last}}`;
/** Finds fine-tuning checkpoint folders by their summary file (file searches see files, not folders). */
export const CHECKPOINT_FOLDER_GLOB = `**/${RUN_FILES.checkpoints}/${BEST_OR_LAST}/${CHECKPOINT_SUMMARY_FILE}`;
/** Folders never searched for runs or configs. */
export const NOT_RUNS_GLOB = '{**/node_modules/**,**/.venv/**}';
/** Config searches also skip the runs: a run's config.yaml is the trainer's copy, not a config to train. */
export const NOT_CONFIGS_GLOB = `{**/node_modules/**,**/.venv/**,**/${DEFAULT_OUTPUT_DIR}/**}`;

/** TensorBoard writes into the run folder itself; older runs used a subfolder. */
export const TENSORBOARD_SUBFOLDERS: readonly string[] = ['tensorboard', 'tb', 'logs'];
const TENSORBOARD_FILE = /^events\.out\.tfevents\./;

export function isTensorboardFile(name: string): boolean {
  return TENSORBOARD_FILE.test(name);
}

/** Checkpoint files a run folder lists: not hidden, not an atomic write still in progress (`.best.pt.X.tmp`). */
export function isListedCheckpoint(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.tmp');
}

export interface RunPaths {
  dir: string;
  events: string;
  log: string;
  metrics: string;
  config: string;
  checkpoints: string;
  bestCheckpoint: string;
  lastCheckpoint: string;
}

export function runPaths(dir: string): RunPaths {
  const checkpoints = join(dir, RUN_FILES.checkpoints);
  return {
    dir,
    events: join(dir, RUN_FILES.events),
    log: join(dir, RUN_FILES.log),
    metrics: join(dir, RUN_FILES.metrics),
    config: join(dir, RUN_FILES.config),
    checkpoints,
    bestCheckpoint: join(checkpoints, CHECKPOINT_FILES.best),
    lastCheckpoint: join(checkpoints, CHECKPOINT_FILES.last),
  };
}

/** The last part of a path, whichever separator it uses (events may come from another OS). */
export function fileNameOf(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

/** A run's id is its folder's name. */
export const runIdOf = fileNameOf;

/** True for the best checkpoint's name (`best.pt`, the folder `best`, or an older run's `model_best.pt`). */
export function isBestCheckpointName(name: string): boolean {
  return /best/i.test(name);
}

/** A checkpoint found in the workspace, with the run it belongs to. */
export interface FoundCheckpoint {
  /** What the trainer's `--checkpoint` takes: the `.pt` file, or the checkpoint folder. */
  path: string;
  /** `<run>` of `<run>/checkpoints/…`. */
  runDir: string;
  /** `best.pt`, `last.pt`, `best`, `last` … */
  name: string;
  best: boolean;
  /** A fine-tuning checkpoint folder (its summary file says the family); otherwise a baseline `.pt` file. */
  folder: boolean;
  /** Set for a PaddleOCR run's checkpoint record (`best.json`, `last.json`). */
  family?: 'paddleocr';
}

/**
 * The checkpoint a file found by CHECKPOINT_GLOB or CHECKPOINT_FOLDER_GLOB stands for: the `.pt` file
 * itself, or the folder a summary file sits in. Undefined for anything else (the globs can be
 * matched loosely, and an atomic write's staging files are never a checkpoint).
 */
export function checkpointOfFoundFile(file: string): FoundCheckpoint | undefined {
  const name = basename(file);
  if (name === PADDLE_CHECKPOINT_FILES.best || name === PADDLE_CHECKPOINT_FILES.last) {
    const folder = dirname(file);
    if (basename(folder) !== RUN_FILES.checkpoints) return undefined;
    return { path: file, runDir: dirname(folder), name, best: isBestCheckpointName(name), folder: false, family: 'paddleocr' };
  }
  if (name.toLowerCase().endsWith(CHECKPOINT_EXTENSION)) {
    const folder = dirname(file);
    if (basename(folder) !== RUN_FILES.checkpoints || !isListedCheckpoint(name)) return undefined;
    return { path: file, runDir: dirname(folder), name, best: isBestCheckpointName(name), folder: false };
  }
  if (name !== CHECKPOINT_SUMMARY_FILE) return undefined;
  const path = dirname(file);
  const folderName = basename(path);
  const checkpoints = dirname(path);
  if (basename(checkpoints) !== RUN_FILES.checkpoints || !isListedCheckpoint(folderName)) return undefined;
  return { path, runDir: dirname(checkpoints), name: folderName, best: isBestCheckpointName(folderName), folder: true };
}

/** A short name for a checkpoint in titles: `<run-id>/best.pt` or `<run-id>/best` inside a run, else its own name. */
export function checkpointDisplayName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  const name = parts.at(-1) ?? path;
  return parts.length >= 3 && parts.at(-2) === RUN_FILES.checkpoints ? `${parts.at(-3)}/${name}` : name;
}
