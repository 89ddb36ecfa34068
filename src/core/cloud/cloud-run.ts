// A cloud run's local side: the record kept in its run folder (`<output_dir>/<run id>/cloud.json`), so the
// Runs tree, the CLI and a later window know where the run went (cluster, job, instance), what state it
// reached, whether its files came back, and what it cost. The run folder also gets events.jsonl and
// train.log written from the streamed output, so every reader of run folders works unchanged.

import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudProblem, CloudTarget } from './types';
import { RUN_FILES } from '../trainer/run-layout';

/** Where a cloud run is: planned, SkyPilot provisioning, the job running, or its end. */
export type CloudRunState = 'planning' | 'launching' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_CLOUD_STATES: readonly CloudRunState[] = ['succeeded', 'failed', 'cancelled'];

export interface CopyBackOutcome {
  status: 'copied' | 'failed' | 'not-copied';
  /** What went wrong, or why nothing was copied (a cancelled run copies only when asked). */
  message?: string;
  at?: string;
}

export interface CloudRunRecord {
  version: 1;
  cluster: string;
  /** SkyPilot's job id on the cluster, once the job is submitted. */
  jobId?: number;
  target: Pick<CloudTarget, 'id' | 'label' | 'cloud' | 'instanceType' | 'accelerators'>;
  nodes: number;
  spot: boolean;
  /** 0: autostop asked off. */
  autostopMinutes: number;
  /** ISO 8601. */
  launchedAt: string;
  finishedAt?: string;
  state: CloudRunState;
  /** The run folder on the head node, once known (copied back from there). */
  remoteRunDir?: string;
  /** USD per node-hour from SkyPilot's catalog, when it was available at launch. */
  hourlyPrice?: number;
  /** Why the run failed, said our way. */
  problem?: Pick<CloudProblem, 'code' | 'message' | 'fix'>;
  copyBack?: CopyBackOutcome;
  /** True once `sky down` removed the cluster. */
  tornDown?: boolean;
}

export const isFinalCloudState = (state: CloudRunState): boolean => FINAL_CLOUD_STATES.includes(state);

/** `cloud-<model>-20261130-101500`: sorts by time like the trainer's ids and says where the run went. */
export function newCloudRunId(modelType: string | undefined, now = new Date()): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const model =
    (modelType ?? 'model')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'model';
  return `${stamp}-${model}-cloud`;
}

/** SkyPilot cluster names: lower-case letters, digits and dashes, starting with a letter; short enough for every cloud. */
export function clusterNameFor(runId: string): string {
  const name = `vin-ocr-${runId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-');
  return name.slice(0, 50).replace(/-$/, '');
}

export function cloudRecordPath(runDir: string): string {
  return join(runDir, RUN_FILES.cloud);
}

/** Writes the record atomically (a reader never sees half a file). */
export async function writeCloudRecord(runDir: string, record: CloudRunRecord): Promise<void> {
  const path = cloudRecordPath(runDir);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temporary, path);
}

const isRecordObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Reads the record; undefined when the folder has none or it is unreadable (a broken file must not hide the run). */
export async function readCloudRecord(runDir: string): Promise<CloudRunRecord | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(cloudRecordPath(runDir), 'utf8'));
    if (!isRecordObject(value) || typeof value.cluster !== 'string' || typeof value.state !== 'string') return undefined;
    if (!isRecordObject(value.target) || typeof value.target.id !== 'string') return undefined;
    return value as unknown as CloudRunRecord;
  } catch {
    return undefined;
  }
}

/** Estimated cost so far in USD: price × nodes × hours since launch (or until it finished); undefined without a price. */
export function estimatedCost(record: CloudRunRecord, now = Date.now()): number | undefined {
  if (record.hourlyPrice === undefined) return undefined;
  const start = Date.parse(record.launchedAt);
  const end = record.finishedAt ? Date.parse(record.finishedAt) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return (record.hourlyPrice * record.nodes * Math.max(0, end - start)) / 3_600_000;
}

export function formatUsd(amount: number): string {
  return amount < 10 ? `$${amount.toFixed(2)}` : `$${amount.toFixed(0)}`;
}

/** One line for tooltips and the CLI: `vin-ocr-… · g5.xlarge ×2 · spot · running · ≈ $0.42`. */
export function describeCloudRun(record: CloudRunRecord, now = Date.now()): string {
  const parts = [record.cluster, record.nodes > 1 ? `${record.target.id} ×${record.nodes}` : record.target.id];
  if (record.spot) parts.push('spot');
  parts.push(record.state);
  const cost = estimatedCost(record, now);
  if (cost !== undefined) parts.push(`≈ ${formatUsd(cost)}`);
  return parts.join(' · ');
}

/**
 * The trainer's final event for an end the trainer could not report (a launch that failed, a lost job, a cancel):
 * the same shape as the trainer's own, so the run manager, the run store and the outcome messages treat it like
 * any other end. The error code is the first problem's; every problem in a file is an issue (`file:line: message`),
 * which the editor shows at its line.
 */
export function finalEventLine(
  status: 'completed' | 'failed' | 'cancelled',
  runId: string,
  problems: readonly CloudProblem[] = [],
  now = new Date(),
): string {
  const event: Record<string, unknown> = { event: 'run_finished', time: now.toISOString(), run_id: runId, status };
  const [first] = problems;
  if (first) {
    const issues = problems
      .filter((problem) => problem.file && problem.line)
      .map((problem) => `${problem.file}:${problem.line}: ${problem.message}`);
    event.error = { code: first.code, message: combinedMessage(problems), hint: first.fix, ...(issues.length ? { issues } : {}) };
  }
  return JSON.stringify(event);
}

/** One problem's message, or the first with how many more there are (each is in the log and, when in a file, at its line). */
export function combinedMessage(problems: readonly CloudProblem[]): string {
  const [first, ...more] = problems;
  if (!first) return '';
  return more.length ? `${first.message} (and ${more.length} more: ${more.map((problem) => problem.message).join(' ')})` : first.message;
}

/** The event that names the local run folder at launch, before the trainer (minutes later, on the cloud) names its own. */
export function launchEventLine(runId: string, runDir: string, now = new Date()): string {
  return JSON.stringify({ event: 'run_started', time: now.toISOString(), run_id: runId, run_dir: runDir });
}

/**
 * Appends the streamed lines to events.jsonl and train.log in batches: one write per file per interval,
 * however fast the events come (thousands a second must not mean thousands of writes).
 */
export class RunFolderWriter {
  private events: string[] = [];
  private log: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** The first write error (a full disk): reported once, the run goes on. */
  error: Error | undefined;

  constructor(
    readonly runDir: string,
    private readonly intervalMs = 250,
  ) {}

  /** Creates the folder with an empty events.jsonl, so the run is listed at once. */
  async create(): Promise<void> {
    await mkdir(join(this.runDir, RUN_FILES.checkpoints), { recursive: true });
    await appendFile(join(this.runDir, RUN_FILES.events), '');
  }

  event(line: string): void {
    this.events.push(line);
    this.schedule();
  }

  logLine(line: string): void {
    this.log.push(line);
    this.schedule();
  }

  /** Writes what is pending; resolves when it is on disk. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.events;
    const log = this.log;
    this.events = [];
    this.log = [];
    this.writing = this.writing.then(async () => {
      try {
        if (events.length) await appendFile(join(this.runDir, RUN_FILES.events), `${events.join('\n')}\n`);
        if (log.length) await appendFile(join(this.runDir, RUN_FILES.log), `${log.join('\n')}\n`);
      } catch (error) {
        this.error ??= error as Error;
      }
    });
    return this.writing;
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }
}
