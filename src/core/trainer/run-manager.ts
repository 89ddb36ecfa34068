// Live training runs: queued behind the concurrency limit, started through the injected launcher,
// folded into state and reported to the UI at a bounded rate however fast the trainer emits events.
// Plain TypeScript (no VS Code) so the CLI and the unit tests use the very same code.

import type { TrainerEvent } from './events';
import { classifyUnreportedExit, LineTail } from './failure';
import type { LineProblem } from './jsonl-reader';
import { startTrainer, type TrainerProcess } from './launch';
import type { TrainerExit, TrainerLauncher } from './launcher';
import { createLocalLauncher } from './local-launcher';
import { RunQueue, type QueuedJob } from './queue';
import { applyEvent, emptyRunState, type RunState } from './run-state';

export interface RunRequest {
  /** What the user sees until the trainer names the run. */
  label: string;
  configPath: string;
  python: string;
  args: readonly string[];
  cwd?: string;
  /** A run that trains elsewhere (a cloud cluster) brings its own launcher; it never waits for this machine's slots. */
  launcher?: TrainerLauncher;
}

export interface LiveRun {
  /** The manager's own id; the trainer's run id arrives later in `state.runId`. */
  readonly key: number;
  readonly request: RunRequest;
  readonly state: RunState;
  /** The last stderr lines, shown when a run dies without a final event. */
  readonly tail: readonly string[];
  readonly exit?: TrainerExit;
  /** The trainer's process id (= its process group on POSIX) while it runs; none when it runs elsewhere. */
  readonly pid?: number;
  /** Where and how the trainer runs (the launcher's words), once it has started. */
  readonly launchDescription?: string;
  cancel(): void;
  /** Settles when the run has ended and its whole process tree is gone. */
  readonly done: Promise<RunState>;
}

export interface RunManagerListener {
  /** Coalesced: at most one call per run per `notifyIntervalMs`, plus one on every status change. */
  runChanged?(run: LiveRun): void;
  /** Every event, unthrottled (the chart feed batches them itself). */
  event?(run: LiveRun, event: TrainerEvent): void;
  log?(run: LiveRun, line: string, stream: 'stdout' | 'stderr'): void;
  problem?(run: LiveRun, problem: LineProblem): void;
  /** The trainer has been started; `description` says where and how (for the log). */
  launched?(run: LiveRun, description: string): void;
}

/** Who starts the trainers: a launcher, or (the common case) this machine with the bundled trainer. */
export type LauncherChoice = { launcher: TrainerLauncher } | { trainerDir: string; env?: NodeJS.ProcessEnv };

export type RunManagerOptions = LauncherChoice & {
  maxConcurrent: number;
  notifyIntervalMs?: number;
  /** Graceful-stop time: the trainer finishes its step and saves a checkpoint in this time. */
  cancelGraceMs?: number;
};

const TAIL_LINES = 40;
/** Runs on other machines at once (each holds only a `sky` process here). */
const MAX_RUNS_ELSEWHERE = 16;

function launcherOf(choice: LauncherChoice): TrainerLauncher {
  return 'launcher' in choice ? choice.launcher : createLocalLauncher({ trainerDir: choice.trainerDir, baseEnv: choice.env });
}

interface MutableRun extends LiveRun {
  state: RunState;
  tailLines: LineTail;
  exit?: TrainerExit;
  pid?: number;
  launchDescription?: string;
  process?: TrainerProcess;
  job?: QueuedJob;
  cancelRequested: boolean;
  notifyTimer?: ReturnType<typeof setTimeout>;
  lastNotified: number;
}

export class RunManager {
  private readonly queue: RunQueue;
  private readonly elsewhere = new RunQueue(MAX_RUNS_ELSEWHERE);
  private readonly launcher: TrainerLauncher;
  private readonly runs = new Map<number, MutableRun>();
  private readonly listeners = new Set<RunManagerListener>();
  private nextKey = 1;
  private disposed = false;

  private cancelGraceMs: number;

  constructor(private readonly options: RunManagerOptions) {
    this.queue = new RunQueue(options.maxConcurrent);
    this.launcher = launcherOf(options);
    this.cancelGraceMs = options.cancelGraceMs ?? 10_000;
  }

  /** How long a cancelled trainer gets to write its checkpoint before SIGKILL (a setting; applies to later cancels). */
  set cancelGrace(ms: number) {
    if (Number.isFinite(ms) && ms >= 0) this.cancelGraceMs = ms;
  }

  set maxConcurrent(limit: number) {
    this.queue.maxConcurrent = limit;
  }

  subscribe(listener: RunManagerListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Runs not yet finished (queued or running), oldest first. */
  get active(): LiveRun[] {
    return [...this.runs.values()].filter((run) => run.state.status === 'queued' || run.state.status === 'running');
  }

  get all(): LiveRun[] {
    return [...this.runs.values()];
  }

  start(request: RunRequest): LiveRun {
    if (this.disposed) throw new Error('The training manager is shut down.');
    let resolveDone!: (state: RunState) => void;
    const done = new Promise<RunState>((resolve) => (resolveDone = resolve));
    const tailLines = new LineTail(TAIL_LINES);
    const run: MutableRun = {
      key: this.nextKey++,
      request,
      state: { ...emptyRunState('queued'), configPath: request.configPath },
      tailLines,
      tail: tailLines.lines,
      done,
      cancelRequested: false,
      lastNotified: 0,
      cancel: () => {
        run.cancelRequested = true;
        run.job?.cancel();
      },
    };
    this.runs.set(run.key, run);
    const queue = request.launcher ? this.elsewhere : this.queue;
    run.job = queue.enqueue(request.label, (signal) => this.execute(run, signal));
    void run.job.done.then((jobState) => {
      if (jobState === 'cancelled' && run.state.status === 'queued') {
        run.state.status = 'cancelled';
        run.state.finishedAt = Date.now();
      }
      this.flush(run);
      resolveDone(run.state);
    });
    this.flush(run);
    return run;
  }

  /**
   * Stops everything (window closing) and resolves once no trainer process is left. The grace is
   * shorter than a user's cancel: VS Code gives deactivate() only a few seconds.
   */
  async dispose(options: { graceMs?: number } = {}): Promise<void> {
    if (options.graceMs !== undefined) this.cancelGraceMs = options.graceMs;
    this.disposed = true;
    const pending = this.all.map((run) => run.done);
    this.queue.cancelAll();
    this.elsewhere.cancelAll();
    await Promise.all(pending);
    for (const run of this.runs.values()) if (run.notifyTimer) clearTimeout(run.notifyTimer);
    this.listeners.clear();
  }

  private async execute(run: MutableRun, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    run.state.status = 'running';
    run.state.startedAt = Date.now();
    this.flush(run);
    const trainer = startTrainer(run.request.launcher ?? this.launcher, {
      python: run.request.python,
      args: run.request.args,
      cwd: run.request.cwd,
      onEvent: (event) => this.onEvent(run, event),
      onLog: (line, stream) => {
        run.tailLines.push(line);
        for (const listener of this.listeners) listener.log?.(run, line, stream);
      },
      onProblem: (problem) => {
        for (const listener of this.listeners) listener.problem?.(run, problem);
      },
    });
    run.process = trainer;
    run.pid = trainer.pid;
    run.launchDescription = trainer.description;
    for (const listener of this.listeners) listener.launched?.(run, trainer.description);
    const stop = () => void trainer.stop({ graceMs: this.cancelGraceMs });
    signal.addEventListener('abort', stop, { once: true });
    // Settles once nothing of the trainer is left (the launcher ends lingering workers).
    const exit = await trainer.exited;
    signal.removeEventListener('abort', stop);
    run.exit = exit;
    this.settle(run, exit);
  }

  private onEvent(run: MutableRun, event: TrainerEvent): void {
    const before = run.state.status;
    applyEvent(run.state, event);
    for (const listener of this.listeners) listener.event?.(run, event);
    if (run.state.status !== before) this.flush(run);
    else this.scheduleNotify(run);
  }

  /** What the run's outcome is when the process is gone: its final event, else derived from the exit. */
  private settle(run: MutableRun, exit: TrainerExit): void {
    const state = run.state;
    if (state.status === 'running') {
      state.finishedAt = Date.now();
      if (run.cancelRequested) {
        state.status = 'cancelled';
      } else {
        const failure = classifyUnreportedExit(exit, run.tail, run.request.python);
        state.status = 'failed';
        state.errorCode = failure.errorCode;
        state.errorMessage = failure.message;
        if (failure.hint) state.hint = failure.hint;
      }
    }
    this.flush(run);
  }

  private scheduleNotify(run: MutableRun): void {
    if (run.notifyTimer) return;
    const interval = this.options.notifyIntervalMs ?? 100;
    const wait = Math.max(0, run.lastNotified + interval - Date.now());
    run.notifyTimer = setTimeout(() => this.flush(run), wait);
  }

  private flush(run: MutableRun): void {
    if (run.notifyTimer) clearTimeout(run.notifyTimer);
    run.notifyTimer = undefined;
    run.lastNotified = Date.now();
    for (const listener of this.listeners) listener.runChanged?.(run);
  }
}
