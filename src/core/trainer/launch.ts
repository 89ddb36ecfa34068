// Starts the bundled Python trainer through a launcher and turns its output into typed events and
// log lines. Long runs (`train`) stream events; one-shot commands (`predict`, `evaluate`) collect
// their JSON answer. Both read a failed start or a crash the same way (failure.ts).

import { classifyEvent, type TrainerEvent } from './events';
import { classifyUnreportedExit, LineTail, type UnreportedFailure } from './failure';
import { parseJsonLine, type LineProblem } from './jsonl-reader';
import type { CancelOptions, CancelResult, TrainerExit, TrainerLauncher, TrainerOutput } from './launcher';
import { createLocalLauncher } from './local-launcher';

export type { TrainerExit } from './launcher';

export interface TrainerEventHandlers {
  /** `raw` is the trainer's parsed line as written (the contract's field names), for relaying. */
  onEvent(event: TrainerEvent, raw: unknown): void;
  /** Human-readable output: stderr, and stdout lines that are not JSON. */
  onLog(line: string, stream: 'stdout' | 'stderr'): void;
  /** Over-long event lines; stray text on stdout arrives through onLog instead. */
  onProblem?(problem: LineProblem): void;
}

export interface TrainerRunRequest extends TrainerEventHandlers {
  /** The interpreter that has torch; never taken from an untrusted workspace (the caller's job). */
  python: string;
  /** Arguments after `python -m vin_ocr`, e.g. `['train', config, '--events', '-']`. */
  args: readonly string[];
  cwd?: string;
}

export interface TrainerProcess {
  readonly pid: number | undefined;
  /** Where and how the trainer runs, for logs. */
  readonly description: string;
  /** Settles once the trainer and everything it started are gone. */
  readonly exited: Promise<TrainerExit>;
  /** Ends the whole trainer; resolves once it is gone (or forcing it did not help within the wait). */
  stop(options?: CancelOptions): Promise<CancelResult>;
}

/** Output handlers that read stdout as the event stream and everything else as log lines. */
export function eventOutput(handlers: TrainerEventHandlers): TrainerOutput {
  const events = {
    value: (value: unknown) => handlers.onEvent(classifyEvent(value), value),
    problem: (problem: LineProblem) =>
      problem.kind === 'not-json' ? handlers.onLog(problem.line, 'stdout') : handlers.onProblem?.(problem),
  };
  return {
    stdout: (line) => parseJsonLine(line, events),
    stderr: (line) => handlers.onLog(line, 'stderr'),
    overlong: (bytes) => handlers.onProblem?.({ kind: 'too-long', bytes }),
  };
}

/** Starts a streaming trainer command (`train … --events -`) with any launcher. */
export function startTrainer(launcher: TrainerLauncher, request: TrainerRunRequest): TrainerProcess {
  const handle = launcher.start({ python: request.python, args: request.args, cwd: request.cwd, output: eventOutput(request) });
  return { pid: handle.pid, description: handle.description, exited: handle.exited, stop: (options) => handle.cancel(options) };
}

export interface TrainerLaunchOptions extends TrainerRunRequest {
  /** `<extensionRoot>/trainer`: put first on PYTHONPATH so `-m vin_ocr` is the bundled package. */
  trainerDir: string;
  /** The environment to extend; defaults to this process's. */
  baseEnv?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** The PaddleOCR environment's interpreter, for VIN_OCR_PADDLE_PYTHON (see LocalLauncherOptions). */
  paddlePython?: () => string | undefined;
}

/** Starts a streaming trainer command on this machine (the local launcher). */
export function launchTrainer(options: TrainerLaunchOptions): TrainerProcess {
  const { trainerDir, baseEnv, platform, paddlePython } = options;
  const launcher = createLocalLauncher({ trainerDir, baseEnv, platform, paddlePython });
  return startTrainer(launcher, options);
}

export interface OneShotResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string[];
  spawnError?: string;
  timedOut: boolean;
  /**
   * Why the command failed when it could not say so itself (it did not start, lacked a module, or
   * crashed): set for every non-zero exit; a JSON error on stdout, when there is one, says more.
   */
  failure?: UnreportedFailure;
}

export interface OneShotRequest {
  python: string;
  args: readonly string[];
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onLog?: (line: string) => void;
}

const MAX_ONE_SHOT_STDOUT = 16 * 1024 * 1024;
const ONE_SHOT_STDERR_LINES = 200;
const ONE_SHOT_GRACE_MS = 2000;

/** Collects stdout up to a cap (the whole JSON answer) and the last stderr lines. */
class OneShotOutput implements TrainerOutput {
  private readonly lines: string[] = [];
  private bytes = 0;
  readonly tail = new LineTail(ONE_SHOT_STDERR_LINES);

  constructor(private readonly onLog?: (line: string) => void) {}

  stdout(line: string): void {
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.bytes <= MAX_ONE_SHOT_STDOUT) this.lines.push(line);
  }

  stderr(line: string): void {
    this.tail.push(line);
    this.onLog?.(line);
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

/**
 * Runs a short trainer command (`predict`, `evaluate`) and collects its JSON output. The trainer is
 * ended when the timeout passes or the signal aborts, so a hung model load cannot linger.
 */
export async function runTrainerOnce(launcher: TrainerLauncher, request: OneShotRequest): Promise<OneShotResult> {
  const output = new OneShotOutput(request.onLog);
  const handle = launcher.start({
    python: request.python,
    args: request.args,
    cwd: request.cwd,
    maxLineBytes: MAX_ONE_SHOT_STDOUT,
    output,
  });
  let timedOut = false;
  const end = () => void handle.cancel({ graceMs: ONE_SHOT_GRACE_MS });
  const timer = request.timeoutMs ? setTimeout(() => ((timedOut = true), end()), request.timeoutMs) : undefined;
  request.signal?.addEventListener('abort', end, { once: true });
  const exit = await handle.exited;
  if (timer) clearTimeout(timer);
  request.signal?.removeEventListener('abort', end);
  const stderr = [...output.tail.lines];
  const result: OneShotResult = { exitCode: exit.exitCode, stdout: output.text, stderr, timedOut };
  if (exit.spawnError) result.spawnError = exit.spawnError;
  if (exit.spawnError || exit.exitCode !== 0) result.failure = classifyUnreportedExit(exit, stderr, request.python);
  return result;
}
