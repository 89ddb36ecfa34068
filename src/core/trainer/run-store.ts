// Reads training runs back from their folders (`<output_dir>/<run-id>/`), so runs started from
// the CLI or in an earlier window appear next to the live ones. Read-only and bounded: a huge
// events.jsonl is read head and tail, never whole.

import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCloudRecord, type CloudRunRecord } from '../cloud/cloud-run';
import { classifyEvent } from './events';
import { JsonLinesReader } from './jsonl-reader';
import { applyEvent, emptyRunState, type RunState } from './run-state';
import { fileNameOf, isListedCheckpoint, isTensorboardFile, RUN_FILES, runPaths, TENSORBOARD_SUBFOLDERS } from './run-layout';

export interface StoredRun extends RunState {
  id: string;
  dir: string;
  eventsFile?: string;
  logFile?: string;
  metricsFile?: string;
  tensorboardDir?: string;
  /** A cloud run's record (cluster, job, instance, state, cost): where the run went. */
  cloud?: CloudRunRecord;
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
  for (const [key, entry] of Object.entries(source))
    if (!skip.has(key) && typeof entry === 'number' && Number.isFinite(entry)) out[key] = entry;
  return out;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** metrics.json: `val` (the best checkpoint's validation metrics) and `test`; older shapes: `best`, or flat numbers. */
function metricsFromFile(value: unknown): { best: Record<string, number>; test: Record<string, number> } {
  if (!isRecord(value)) return { best: {}, test: {} };
  const best = isRecord(value.val) ? numbers(value.val) : isRecord(value.best) ? numbers(value.best) : numbers(value, BOOKKEEPING);
  return { best, test: numbers(value.test) };
}

async function findTensorboardDir(dir: string, names: string[]): Promise<string | undefined> {
  if (names.some(isTensorboardFile)) return dir;
  for (const candidate of TENSORBOARD_SUBFOLDERS) {
    if (!names.includes(candidate)) continue;
    try {
      if ((await readdir(join(dir, candidate))).some(isTensorboardFile)) return join(dir, candidate);
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
  const paths = runPaths(dir);
  const hasEvents = names.includes(RUN_FILES.events);
  const hasMetrics = names.includes(RUN_FILES.metrics);
  if (!hasEvents && !hasMetrics) return undefined;

  const state = emptyRunState('running');
  const events = hasEvents ? await readEvents(paths.events, state, maxEventBytes) : { modifiedAt: 0, sawFinish: false };
  let modifiedAt = events.modifiedAt;
  const run: StoredRun = { ...state, id, dir, modifiedAt, runId: state.runId ?? id, runDir: dir };
  if (hasEvents) run.eventsFile = paths.events;
  if (names.includes(RUN_FILES.log)) run.logFile = paths.log;
  if (hasMetrics) modifiedAt = Math.max(modifiedAt, await readMetricsFile(run, paths.metrics));
  if (names.includes(RUN_FILES.checkpoints)) await addCheckpointFiles(run, paths.checkpoints);
  run.tensorboardDir = await findTensorboardDir(dir, names);
  if (names.includes(RUN_FILES.cloud)) run.cloud = await readCloudRecord(dir);
  run.modifiedAt = modifiedAt;
  if (!events.sawFinish) settleUnfinished(run, now, staleAfterMs);
  return run;
}

/** Folds events.jsonl into the state; returns its modification time and whether it has a final event. */
async function readEvents(file: string, state: RunState, maxEventBytes: number): Promise<{ modifiedAt: number; sawFinish: boolean }> {
  const info = await stat(file);
  let sawFinish = false;
  const reader = new JsonLinesReader({
    value: (value) => {
      const event = classifyEvent(value);
      if (event.type === 'run_finished') sawFinish = true;
      applyEvent(state, event, info.mtimeMs);
    },
  });
  for (const part of await readBounded(file, info.size, maxEventBytes)) {
    reader.push(part);
    reader.end();
  }
  state.startedAt ??= info.birthtimeMs || undefined;
  return { modifiedAt: info.mtimeMs, sawFinish };
}

/** metrics.json is written at the end and is authoritative; the events may have been read head + tail only. */
async function readMetricsFile(run: StoredRun, file: string): Promise<number> {
  run.metricsFile = file;
  try {
    const fromFile = metricsFromFile(JSON.parse(await readFile(file, 'utf8')));
    if (Object.keys(fromFile.best).length > 0) run.bestMetrics = fromFile.best;
    if (Object.keys(fromFile.test).length > 0) run.testMetrics = fromFile.test;
    return (await stat(file)).mtimeMs;
  } catch {
    return 0; // A metrics file being rewritten or broken must not hide the run.
  }
}

/** Checkpoint files on disk that no event announced (older runs, a lost tail of events). */
async function addCheckpointFiles(run: StoredRun, folder: string): Promise<void> {
  try {
    const files = (await readdir(folder)).filter(isListedCheckpoint).sort();
    for (const name of files) {
      const path = join(folder, name);
      const known = run.checkpoints.some((checkpoint) => checkpoint.path === path || fileNameOf(checkpoint.path) === name);
      if (!known) run.checkpoints.push({ path });
    }
  } catch {
    // not a folder
  }
}

/** The trainer always ends with run_finished; without it the process died (crash, kill -9, power) or still runs. */
function settleUnfinished(run: StoredRun, now: number, staleAfterMs: number): void {
  if (now - run.modifiedAt > staleAfterMs) {
    run.status = 'failed';
    run.errorCode = 'no_final_event';
    run.errorMessage = run.cloud
      ? `Nothing followed this cloud run to its end (the window that launched it closed?). Check it with: sky queue ${run.cloud.cluster}`
      : 'The trainer stopped without reporting an outcome (crashed or was killed).';
    run.finishedAt = run.modifiedAt || undefined;
  } else {
    run.status = 'running';
  }
}

/** All runs under one output folder, newest first. A missing folder is simply empty. */
export async function listRuns(outputDir: string, options: ReadRunOptions = {}): Promise<StoredRun[]> {
  let entries: string[];
  try {
    entries = await readdir(outputDir);
  } catch {
    return [];
  }
  const runs = await Promise.all(
    entries.filter((name) => !name.startsWith('.')).map((name) => readRun(join(outputDir, name), name, options)),
  );
  return runs
    .filter((run): run is StoredRun => run !== undefined)
    .sort((a, b) => (b.startedAt ?? b.modifiedAt) - (a.startedAt ?? a.modifiedAt));
}
