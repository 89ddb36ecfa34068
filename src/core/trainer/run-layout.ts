// What a run directory holds, as the trainer writes it (trainer/vin_ocr/training/session.py and
// checkpoints.py): `<output_dir>/<run-id>/` with events.jsonl, train.log, metrics.json, config.yaml
// (the resolved config: every default filled in, so a resume is the same run), checkpoints/best.pt
// and last.pt, and TensorBoard event files. Every reader of run folders takes the names from here.

import { join } from 'node:path';

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
} as const;

export const CHECKPOINT_FILES = { best: 'best.pt', last: 'last.pt' } as const;
export const CHECKPOINT_EXTENSION = '.pt';

/** The files whose presence makes a folder a run (either is enough: metrics.json alone is an older run). */
export const RUN_MARKER_FILES: readonly string[] = [RUN_FILES.events, RUN_FILES.metrics];

/** Workspace globs (VS Code's findFiles and file watchers). */
export const RUN_MARKER_GLOB = `**/{${RUN_MARKER_FILES.join(',')}}`;
export const CHECKPOINT_GLOB = `**/${RUN_FILES.checkpoints}/*${CHECKPOINT_EXTENSION}`;
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

/** True for the best checkpoint's file name (`best.pt`, or an older run's `model_best.pt`). */
export function isBestCheckpointName(name: string): boolean {
  return /best/i.test(name);
}
