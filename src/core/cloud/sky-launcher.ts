// The cloud launcher: a TrainerLauncher whose trainer runs on a SkyPilot cluster. `start` plans the task
// (stages the trainer and the config), runs `sky launch -y -c CLUSTER … task.yaml` and hands the job's
// lines on as the trainer's own (SkyPilot's job-log framing stripped), so the run manager, the Runs tree,
// the notification and the Training view treat a cloud run like a local one. The local run folder gets
// cloud.json, events.jsonl and train.log as the run goes; at the end the run's files are copied back.
// Every end the trainer could not report itself (a failed launch, a lost job, a cancel) becomes a
// run_finished event with the reason, so the run is never left "running" on disk.

import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findOnPath } from '../interpreter/resolve';
import { removeStaging } from './plan';
import { skyArgs } from './sky';
import { classifySkyFailure, parseChosenResources, parseJobFinished, parseJobId, parseJobLine, eventTextOf, stripAnsi } from './sky-output';
import type { CancelResult, TrainerExit, TrainerLaunchRequest, TrainerLauncher, TrainerProcessHandle } from '../trainer/launcher';
import {
  combinedMessage,
  finalEventLine,
  isFinalCloudState,
  launchEventLine,
  RunFolderWriter,
  writeCloudRecord,
  type CloudRunRecord,
  type CloudRunState,
  type CopyBackOutcome,
} from './cloud-run';
import type { CloudPlan, CloudPlanRequest, CloudPlanResult, CloudProblem } from './types';

export interface SkyCommandResult {
  exitCode: number | undefined;
  signal?: string;
  /** Set when `sky` could not be started at all. */
  spawnError?: string;
}

/** Runs `sky ARGS` (argument array, no shell), line by line; aborting the signal ends the process and what it started. */
export type SkyRunner = (
  args: readonly string[],
  options: { onLine(line: string, stream: 'stdout' | 'stderr'): void; signal?: AbortSignal },
) => Promise<SkyCommandResult>;

/** Copies a finished run's files (checkpoints, metrics, resolved config) from the head node into the local run folder. */
export type CopyBack = (cluster: string, remoteRunDir: string, localRunDir: string, signal?: AbortSignal) => Promise<CopyBackOutcome>;

export interface SkyLauncherOptions {
  /** What to launch (the plan is made at start, so staging counts in the launch and failures mark the run). */
  request: CloudPlanRequest & { clusterName: string };
  plan(request: CloudPlanRequest): Promise<CloudPlanResult>;
  sky: SkyRunner;
  /** The local run folder (`<output_dir>/<run id>/`); created at start. */
  runDir: string;
  runId: string;
  copyBack?: CopyBack;
  /** USD per node-hour from SkyPilot's catalog, until `sky launch` prints the price of what it chose. */
  hourlyPrice?: number;
  /** Each change of the record (state, job id), after it is written. */
  onRecord?(record: Readonly<CloudRunRecord>): void;
  /** How long `sky cancel` may take before the local `sky` process is ended anyway. */
  cancelTimeoutMs?: number;
  /** Events are written to disk at most this often (tests shorten it). */
  writeIntervalMs?: number;
}

/** A line as SkyPilot left it after its spinner redraws (`\r`), colours stripped. */
const visibleText = (raw: string): string => stripAnsi(raw.slice(raw.lastIndexOf('\r') + 1));

/** Paths in the trainer's events name the head node's folders; the local copies live in the run folder. */
class PathTranslator {
  private from: string | undefined;
  private readonly to: string;

  constructor(localRunDir: string) {
    this.to = JSON.stringify(localRunDir).slice(1, -1);
  }

  /** The trainer's run_started names its folder: from then on that prefix is replaced. */
  learn(line: string): string | undefined {
    if (!line.includes('"run_started"')) return undefined;
    try {
      const runDir = (JSON.parse(line) as { run_dir?: unknown }).run_dir;
      if (typeof runDir !== 'string' || !runDir) return undefined;
      this.from = JSON.stringify(runDir.replace(/\/+$/, '')).slice(1, -1);
      return runDir;
    } catch {
      return undefined;
    }
  }

  apply(line: string): string {
    return this.from && line.includes(this.from) ? line.split(this.from).join(this.to) : line;
  }
}

// ---------- the launcher ----------

export function createSkyLauncher(options: SkyLauncherOptions): TrainerLauncher {
  return {
    description: `SkyPilot cluster ${options.request.clusterName}`,
    start: (request) => new SkyRun(options, request).handle(),
  };
}

/** `sky cancel` goes through SkyPilot's API server: seconds, more when the server has to start. */
const SKY_CANCEL_TIMEOUT_MS = 60_000;
/** SkyPilot's lines kept for reading a failed launch (the reason is near the end). */
const MAX_SKY_LINES_KEPT = 400;
const JOB_OUTCOMES: Record<string, 'completed' | 'failed' | 'cancelled'> = { SUCCEEDED: 'completed', CANCELLED: 'cancelled' };

class SkyRun {
  private readonly writer: RunFolderWriter;
  private readonly paths: PathTranslator;
  private readonly launchAbort = new AbortController();
  private readonly skyOutput: string[] = [];
  private record: CloudRunRecord;
  private jobStatus: string | undefined;
  private trainerFinished = false;
  private cancelRequested = false;
  private launchDone: Promise<unknown> = Promise.resolve();
  private recordWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: SkyLauncherOptions,
    private readonly request: TrainerLaunchRequest,
  ) {
    this.writer = new RunFolderWriter(options.runDir, options.writeIntervalMs);
    this.paths = new PathTranslator(options.runDir);
    const { request: plan } = options;
    this.record = {
      version: 1,
      cluster: plan.clusterName,
      target: { id: plan.instance, label: plan.instance },
      nodes: plan.nodes ?? 1,
      spot: plan.spot ?? false,
      autostopMinutes: plan.autostopMinutes ?? 30,
      launchedAt: new Date().toISOString(),
      state: 'planning',
      ...(options.hourlyPrice !== undefined ? { hourlyPrice: options.hourlyPrice } : {}),
    };
  }

  handle(): TrainerProcessHandle {
    const exited = this.run();
    return {
      pid: undefined,
      description: `sky launch -c ${this.record.cluster} (${this.options.request.instance}, ${this.record.nodes} node(s))`,
      exited,
      cancel: () => this.cancel(),
    };
  }

  private async run(): Promise<TrainerExit> {
    try {
      await this.writer.create();
      await this.update({});
      this.event(launchEventLine(this.options.runId, this.options.runDir));
      const planned = await this.options.plan(this.options.request);
      if (!planned.ok) return await this.fail(...planned.problems);
      await this.update({ state: 'launching', target: this.targetOf(planned.plan) });
      if (this.cancelRequested) return await this.finish('cancelled');
      const exit = await this.launch(planned.plan);
      return await this.settle(exit);
    } catch (error) {
      return this.fail({ code: 'cloud-internal', message: (error as Error).message, fix: 'See the VIN OCR Training log.' });
    } finally {
      await this.writer.flush();
    }
  }

  private targetOf(plan: CloudPlan): CloudRunRecord['target'] {
    const { id, label, cloud, instanceType, accelerators } = plan.target;
    return { id, label, cloud, instanceType, accelerators };
  }

  private async launch(plan: CloudPlan): Promise<SkyCommandResult> {
    const taskFile = plan.taskFile ?? join(this.options.runDir, 'sky-task.yaml');
    if (!plan.taskFile) await writeFile(taskFile, plan.taskYaml);
    const args = skyArgs.launch(taskFile, plan.clusterName);
    this.log(`$ sky ${args.join(' ')}`);
    const launched = this.options.sky(args, { onLine: (line) => this.onSkyLine(line), signal: this.launchAbort.signal });
    this.launchDone = launched;
    try {
      return await launched;
    } finally {
      // Uploaded by now (or abandoned): the staged copy of the trainer is no longer needed.
      await removeStaging(plan).catch(() => undefined);
    }
  }

  private onSkyLine(raw: string): void {
    const line = parseJobLine(visibleText(raw));
    if (line.node === undefined) return this.onSkyMessage(line.text);
    const event = eventTextOf(line);
    if (event) return this.onEventLine(event);
    const rank = line.rank ?? 0;
    // Rank 0 is the trainer that reports; other nodes' lines are kept, named.
    this.trainerLog(line.node === 'setup' || rank !== 0 ? `${line.node}: ${line.text}` : line.text);
  }

  private onEventLine(text: string): void {
    const remoteRunDir = this.paths.learn(text);
    if (remoteRunDir) void this.update({ remoteRunDir });
    if (text.includes('"run_finished"')) this.trainerFinished = true;
    this.event(this.paths.apply(text));
  }

  private onSkyMessage(text: string): void {
    if (!text.trim()) return;
    this.skyOutput.push(text);
    if (this.skyOutput.length > MAX_SKY_LINES_KEPT) this.skyOutput.shift();
    const jobId = parseJobId(text);
    if (jobId !== undefined && this.record.jobId === undefined) void this.update({ jobId, state: 'running', ...this.chosenPrice() });
    this.jobStatus = parseJobFinished(text) ?? this.jobStatus;
    this.log(text);
  }

  /** The price SkyPilot's optimizer printed for what it chose (all nodes), per node-hour. */
  private chosenPrice(): Pick<CloudRunRecord, 'hourlyPrice'> {
    const chosen = parseChosenResources(this.skyOutput.join('\n'));
    return chosen ? { hourlyPrice: chosen.costPerHour / this.record.nodes } : {};
  }

  /** The job's end, said our way: the trainer's own final event when it sent one, else SkyPilot's job status or the launch failure. */
  private async settle(exit: SkyCommandResult): Promise<TrainerExit> {
    if (this.cancelRequested) return this.finish('cancelled');
    if (exit.spawnError) {
      return this.fail({
        code: 'sky-not-found',
        message: exit.spawnError,
        fix: 'Set vinOcr.cloud.skyPath to SkyPilot\'s "sky", or let VIN OCR create its environment.',
      });
    }
    if (this.record.jobId === undefined) return this.fail(classifySkyFailure(this.skyOutput.join('\n'), exit.exitCode));
    const outcome = this.trainerFinished ? undefined : (JOB_OUTCOMES[this.jobStatus ?? ''] ?? 'failed');
    if (outcome === 'failed') {
      return this.fail({
        code: 'cloud-job-failed',
        message: `The job on ${this.record.cluster} ended ${this.jobStatus ?? `(sky exit ${exit.exitCode})`} without the trainer's result.`,
        fix: `See the log above, or run: sky logs ${this.record.cluster} ${this.record.jobId}`,
      });
    }
    if (outcome) this.event(finalEventLine(outcome, this.options.runId));
    const state: CloudRunState = this.jobStatus === 'SUCCEEDED' || (this.trainerFinished && exit.exitCode === 0) ? 'succeeded' : 'failed';
    await this.copyBack();
    await this.update({ state, finishedAt: new Date().toISOString() });
    return { exitCode: state === 'succeeded' ? 0 : 1, signal: undefined };
  }

  private async copyBack(): Promise<void> {
    const remote = this.record.remoteRunDir;
    if (!this.options.copyBack || !remote) return;
    await this.writer.flush();
    this.log(`Copying the run's files back from ${this.record.cluster}:${remote} …`);
    // A cancel while copying stops the copy too (launchAbort also ends the stream).
    const outcome = await this.options.copyBack(this.record.cluster, remote, this.options.runDir, this.launchAbort.signal);
    this.log(
      outcome.status === 'copied'
        ? 'Copied the checkpoints and metrics back.'
        : `Could not copy the run's files back: ${outcome.message ?? ''}`,
    );
    await this.update({ copyBack: { ...outcome, at: new Date().toISOString() } });
  }

  /** Ends the run failed with the reason and the fix: in the log, the final event and the record. */
  private async fail(...problems: CloudProblem[]): Promise<TrainerExit> {
    for (const problem of problems) this.log(`${problem.code}: ${problem.message} Fix: ${problem.fix}`);
    this.event(finalEventLine('failed', this.options.runId, problems));
    const [first] = problems;
    await this.update({
      state: 'failed',
      problem: { code: first!.code, message: combinedMessage(problems), fix: first!.fix },
      finishedAt: new Date().toISOString(),
    });
    return { exitCode: 1, signal: undefined };
  }

  private async finish(status: 'cancelled'): Promise<TrainerExit> {
    if (!this.trainerFinished) this.event(finalEventLine(status, this.options.runId));
    await this.update({
      state: 'cancelled',
      finishedAt: new Date().toISOString(),
      copyBack: { status: 'not-copied', message: 'The run was cancelled: its files stay on the cluster until it is torn down.' },
    });
    return { exitCode: undefined, signal: 'SIGTERM' };
  }

  /**
   * Stops the job on the cluster (`sky cancel`), then the local `sky launch` (its stream would only bring lines of
   * a job that is ending). The cluster stays up for the person to tear down, after copying the run's files back
   * if they want them.
   */
  private async cancel(): Promise<CancelResult> {
    if (this.cancelRequested || isFinalCloudState(this.record.state)) return { forced: false, gone: true };
    this.cancelRequested = true;
    const jobId = this.record.jobId;
    if (jobId !== undefined) {
      const args = skyArgs.cancel(this.record.cluster, jobId);
      this.log(`$ sky ${args.join(' ')}`);
      const timeout = AbortSignal.timeout(this.options.cancelTimeoutMs ?? SKY_CANCEL_TIMEOUT_MS);
      const result = await this.options.sky(args, { onLine: (line) => this.log(visibleText(line)), signal: timeout });
      if (result.exitCode !== 0)
        this.log(`sky cancel did not confirm (exit ${result.exitCode ?? result.signal}): run "sky queue ${this.record.cluster}" to check.`);
    }
    this.launchAbort.abort();
    await this.launchDone;
    return { forced: false, gone: true };
  }

  private event(line: string): void {
    this.writer.event(line);
    this.request.output.stdout(line);
  }

  /** The trainer's own human-readable lines (its stderr, which SkyPilot streams with its stdout). */
  private trainerLog(text: string): void {
    this.writer.logLine(text);
    this.request.output.stderr(text);
  }

  /** SkyPilot's and our own lines about the cloud side. */
  private log(text: string): void {
    this.writer.logLine(text);
    this.request.output.stderr(`cloud: ${text}`);
  }

  /** Changes the record and writes it; writes are queued, so the file always ends with the latest state. */
  private update(change: Partial<CloudRunRecord>): Promise<void> {
    this.record = { ...this.record, ...change };
    const record = this.record;
    this.recordWrite = this.recordWrite.then(async () => {
      try {
        await writeCloudRecord(this.options.runDir, record);
      } catch (error) {
        this.request.output.stderr(`cloud: could not write ${this.options.runDir}: ${(error as Error).message}`);
      }
      this.options.onRecord?.(record);
    });
    return this.recordWrite;
  }
}

// ---------- copy-back over SkyPilot's ssh config ----------

/** What comes back: everything but the event stream and the log, which the launcher wrote locally as they streamed. */
const NOT_COPIED = ['events.jsonl', 'train.log'];
/** Without rsync (a bare Windows or container), scp fetches these one by one. */
const COPIED_BY_SCP = ['checkpoints', 'metrics.json', 'config.yaml'];
const SSH_OPTIONS = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20'];
const COPY_TIMEOUT_MS = 30 * 60_000;

interface ToolResult {
  code: number | undefined;
  stderr: string;
}

function runTool(command: string, args: readonly string[], signal?: AbortSignal): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { shell: false, stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true, signal });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on('error', (error) => resolve({ code: undefined, stderr: error.message }));
    child.on('close', (code) => resolve({ code: code ?? undefined, stderr }));
  });
}

const lastLine = (text: string) => text.trim().split(/\r?\n/).filter(Boolean).at(-1) ?? '';

/**
 * Copies the run folder's files from the head node. SkyPilot writes an ssh alias per cluster (its name), so
 * `rsync CLUSTER:PATH` works as for any host; scp is the fallback where rsync is missing.
 */
export async function copyBackOverSsh(
  cluster: string,
  remoteRunDir: string,
  localRunDir: string,
  signal?: AbortSignal,
): Promise<CopyBackOutcome> {
  const bounded = signal ? AbortSignal.any([signal, AbortSignal.timeout(COPY_TIMEOUT_MS)]) : AbortSignal.timeout(COPY_TIMEOUT_MS);
  const remote = remoteRunDir.replace(/\/+$/, '');
  const rsync = await findOnPath('rsync');
  if (rsync) {
    const excludes = NOT_COPIED.flatMap((name) => ['--exclude', name]);
    const args = ['-a', '--protect-args', ...excludes, '-e', `ssh ${SSH_OPTIONS.join(' ')}`, `${cluster}:${remote}/`, `${localRunDir}/`];
    const result = await runTool(rsync, args, bounded);
    return result.code === 0
      ? { status: 'copied' }
      : { status: 'failed', message: `rsync: ${lastLine(result.stderr) || `exit ${result.code}`}` };
  }
  const scp = await findOnPath('scp');
  if (!scp) return { status: 'failed', message: 'neither rsync nor scp is installed on this machine.' };
  const failures: string[] = [];
  for (const name of COPIED_BY_SCP) {
    const result = await runTool(scp, ['-r', '-q', ...SSH_OPTIONS, `${cluster}:${remote}/${name}`, `${localRunDir}/`], bounded);
    if (result.code !== 0) failures.push(`${name}: ${lastLine(result.stderr) || `exit ${result.code}`}`);
  }
  return failures.length === 0 ? { status: 'copied' } : { status: 'failed', message: `scp: ${failures.join('; ')}` };
}
