// Reads training runs back from their folders (`<output_dir>/<run-id>/`), so runs started from
// the CLI or in an earlier window appear next to the live ones. Read-only and bounded: a huge
// events.jsonl is read head and tail, never whole.

import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyEvent } from './events';
import { JsonLinesReader } from './jsonl-reader';
import { applyEvent, emptyRunState, type RunState } from './run-state';

export interface StoredRun extends RunState {
  id: string;
  dir: string;
  eventsFile?: string;
  logFile?: string;
  metricsFile?: string;
  tensorboardDir?: string;
  /** Last modification of the run's files, for sorting and for telling a live run from a dead one. */
  modifiedAt: number;
}

export interface ReadRunOptions {
  /** A run without a final event whose events changed this recently counts as still running. */
  staleAfterMs?: number;
  /** events.jsonl files above this size are read as head + tail. */
  maxEventBytes?: number;
  now?: number;
}

const HEAD_BYTES = 256 * 1024;
const TENSORBOARD_FILE = /^events\.out\.tfevents\./;

async function readBounded(path: string, size: number, maxBytes: number): Promise<string[]> {
  if (size <= maxBytes) return [await readFile(path, 'utf8')];
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    await handle.read(head, 0, HEAD_BYTES, 0);
    const tailBytes = maxBytes - HEAD_BYTES;
    const tail = Buffer.alloc(tailBytes);
    await handle.read(tail, 0, tailBytes, size - tailBytes);
    // Cut both at line boundaries so no half event is parsed.
    const headText = head.toString('utf8');
    const tailText = tail.toString('utf8');
    return [headText.slice(0, headText.lastIndexOf('\n') + 1), tailText.slice(tailText.indexOf('\n') + 1)];
  } finally {
    await handle.close();
  }
}

const BOOKKEEPING = new Set(['step', 'best_step', 'elapsed_seconds', 'samples_seen']);

function numbers(source: unknown, skip: Set<string> = new Set()): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof source !== 'object' || source === null) return out;
  for (const [key, entry] of Object.entries(source)) if (!skip.has(key) && typeof entry === 'number' && Number.isFinite(entry)) out[key] = entry;
  return out;
}

/** metrics.json: `val` (the best checkpoint's validation metrics) and `test`; older shapes: `best`, or flat numbers. */
function metricsFromFile(value: unknown): { best: Record<string, number>; test: Record<string, number> } {
  if (typeof value !== 'object' || value === null) return { best: {}, test: {} };
  const record = value as Record<string, unknown>;
  const best = typeof record.val === 'object' && record.val !== null ? numbers(record.val) : typeof record.best === 'object' && record.best !== null ? numbers(record.best) : numbers(record, BOOKKEEPING);
  return { best, test: numbers(record.test) };
}

async function findTensorboardDir(dir: string, names: string[]): Promise<string | undefined> {
  if (names.some((name) => TENSORBOARD_FILE.test(name))) return dir;
  for (const candidate of ['tensorboard', 'tb', 'logs']) {
    if (!names.includes(candidate)) continue;
    try {
      if ((await readdir(join(dir, candidate))).some((name) => TENSORBOARD_FILE.test(name))) return join(dir, candidate);
    } catch {
      // not a folder
    }
  }
  return undefined;
}

/** Reads one run folder; undefined when it is not a run (no events.jsonl and no metrics.json). */
export async function readRun(dir: string, id: string, options: ReadRunOptions = {}): Promise<StoredRun | undefined> {
  const { staleAfterMs = 120_000, maxEventBytes = 8 * 1024 * 1024, now = Date.now() } = options;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const hasEvents = names.includes('events.jsonl');
  const hasMetrics = names.includes('metrics.json');
  if (!hasEvents && !hasMetrics) return undefined;

  const state = emptyRunState('running');
  let modifiedAt = 0;
  let sawFinish = false;
  if (hasEvents) {
    const eventsFile = join(dir, 'events.jsonl');
    const info = await stat(eventsFile);
    modifiedAt = info.mtimeMs;
    const reader = new JsonLinesReader({
      value: (value) => {
        const event = classifyEvent(value);
        if (event.type === 'run_finished') sawFinish = true;
        applyEvent(state, event, info.mtimeMs);
      },
    });
    for (const part of await readBounded(eventsFile, info.size, maxEventBytes)) {
      reader.push(part);
      reader.end();
    }
    state.startedAt ??= info.birthtimeMs || undefined;
  }
  const run: StoredRun = { ...state, id, dir, modifiedAt, runId: state.runId ?? id, runDir: dir };
  if (hasEvents) run.eventsFile = join(dir, 'events.jsonl');
  if (names.includes('train.log')) run.logFile = join(dir, 'train.log');
  if (hasMetrics) {
    run.metricsFile = join(dir, 'metrics.json');
    try {
      const fromFile = metricsFromFile(JSON.parse(await readFile(run.metricsFile, 'utf8')));
      // The file is written at the end and is authoritative; the events may have been read head + tail only.
      if (Object.keys(fromFile.best).length > 0) run.bestMetrics = fromFile.best;
      if (Object.keys(fromFile.test).length > 0) run.testMetrics = fromFile.test;
      modifiedAt = Math.max(modifiedAt, (await stat(run.metricsFile)).mtimeMs);
    } catch {
      // A metrics file being rewritten or broken must not hide the run.
    }
  }
  if (names.includes('checkpoints')) {
    try {
      const files = (await readdir(join(dir, 'checkpoints'))).filter((name) => !name.startsWith('.') && !name.endsWith('.tmp')).sort();
      for (const name of files) {
        const path = join(dir, 'checkpoints', name);
        if (!run.checkpoints.some((checkpoint) => checkpoint.path === path || checkpoint.path.endsWith(`/${name}`))) run.checkpoints.push({ path });
      }
    } catch {
      // not a folder
    }
  }
  run.tensorboardDir = await findTensorboardDir(dir, names);
  run.modifiedAt = modifiedAt;
  if (!sawFinish) {
    if (now - modifiedAt > staleAfterMs) {
      // The trainer always ends with run_finished; without it the process died (crash, kill -9, power).
      run.status = 'failed';
      run.errorCode = 'no_final_event';
      run.errorMessage = 'The trainer stopped without reporting an outcome (crashed or was killed).';
      run.finishedAt = modifiedAt || undefined;
    } else {
      run.status = 'running';
    }
  }
  return run;
}

/** All runs under one output folder, newest first. A missing folder is simply empty. */
export async function listRuns(outputDir: string, options: ReadRunOptions = {}): Promise<StoredRun[]> {
  let entries: string[];
  try {
    entries = await readdir(outputDir);
  } catch {
    return [];
  }
  const runs = await Promise.all(entries.filter((name) => !name.startsWith('.')).map((name) => readRun(join(outputDir, name), name, options)));
  return runs.filter((run): run is StoredRun => run !== undefined).sort((a, b) => (b.startedAt ?? b.modifiedAt) - (a.startedAt ?? a.modifiedAt));
}
