// How a trainer process is started, watched and stopped, whatever runs it. Every start path (the
// run manager, the CLI's `train`, one-shot commands such as predict and evaluate) goes through a
// TrainerLauncher, so a launcher that runs the trainer elsewhere (a cloud machine, several nodes)
// slots in without touching them. The local launcher (local-launcher.ts) is the one we have.

/** Where a trainer's output goes, line by line (without the newline). */
export interface TrainerOutput {
  /** One stdout line: an event (JSON) or stray text from a library. */
  stdout(line: string): void;
  /** One stderr line: the trainer's human-readable log. */
  stderr(line: string): void;
  /** A stdout line over the size cap, dropped unread (its size in bytes). */
  overlong?(bytes: number): void;
}

export interface TrainerLaunchRequest {
  /** The interpreter that has torch (on the machine the launcher runs the trainer on). */
  python: string;
  /** Arguments after `python -m vin_ocr`, e.g. `['train', config, '--events', '-']`. */
  args: readonly string[];
  cwd?: string;
  /** Longest stdout line delivered; one-shot commands print one large JSON document (default 1 MiB). */
  maxLineBytes?: number;
  output: TrainerOutput;
}

export interface TrainerExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Set when the process could not start at all (missing interpreter, no permission). */
  spawnError?: string;
}

export interface CancelOptions {
  /** How long the trainer gets to finish its step and write a checkpoint before it is forced. */
  graceMs?: number;
}

export interface CancelResult {
  /** True when the trainer had to be forced (SIGKILL, taskkill /F) because the graceful stop was not enough. */
  forced: boolean;
  /** True when nothing of the trainer is left. */
  gone: boolean;
}

export interface TrainerProcessHandle {
  /** The local process id (the process group on POSIX); undefined when the trainer runs elsewhere or did not start. */
  readonly pid: number | undefined;
  /** Says where and how the trainer runs, for logs. */
  readonly description: string;
  /** Settles once the trainer and everything it started are gone, with the trainer's exit. */
  readonly exited: Promise<TrainerExit>;
  /** Stops gracefully (the trainer writes a checkpoint), then by force after the grace. */
  cancel(options?: CancelOptions): Promise<CancelResult>;
}

export interface TrainerLauncher {
  /** Where this launcher runs trainers, for logs ("this machine, one process group per run"). */
  readonly description: string;
  /** Starts `python -m vin_ocr <args>`; never throws (a failed start is reported through `exited`). */
  start(request: TrainerLaunchRequest): TrainerProcessHandle;
}
