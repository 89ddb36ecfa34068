// Starts the bundled Python trainer and turns its output into typed events and log lines.
// The trainer leads its own process group so that cancel can end DataLoader workers too;
// arguments always travel as an array, never through a shell.
// node:child_process rather than execa: execa 9 is ESM-only and cannot be loaded by the unit
// tests' CommonJS loader (tsx); what we need from it (no shell, detached group, streaming) is
// a few lines here.

import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import { classifyEvent, type TrainerEvent } from './events';
import { JsonLinesReader, LineSplitter, type LineProblem } from './jsonl-reader';
import { killProcessTree, type KillTreeOptions, type KillTreeResult } from './kill-tree';

export interface TrainerLaunchOptions {
  /** The interpreter that has torch; never taken from an untrusted workspace (the caller's job). */
  python: string;
  /** `<extensionRoot>/trainer`: put first on PYTHONPATH so `-m vin_ocr` is the bundled package. */
  trainerDir: string;
  /** Arguments after `python -m vin_ocr`, e.g. `['train', config, '--events', '-']`. */
  args: readonly string[];
  cwd?: string;
  /** The environment to extend; defaults to this process's. */
  baseEnv?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** `raw` is the trainer's parsed line as written (the contract's field names), for relaying. */
  onEvent(event: TrainerEvent, raw: unknown): void;
  /** Human-readable output: stderr, and stdout lines that are not JSON. */
  onLog(line: string, stream: 'stdout' | 'stderr'): void;
  /** Over-long event lines; stray text on stdout arrives through onLog instead. */
  onProblem?(problem: LineProblem): void;
}

export interface TrainerExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Set when the process could not start at all (missing interpreter, no permission). */
  spawnError?: string;
}

export interface TrainerProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<TrainerExit>;
  /** Ends the whole tree; resolves once it is gone (or SIGKILL did not help within the wait). */
  stop(options?: KillTreeOptions): Promise<KillTreeResult>;
}

/** The environment the seed asks for: unbuffered output, the OpenMP workaround on macOS, the bundled package first. */
export function trainerEnvironment(base: NodeJS.ProcessEnv, trainerDir: string, platform: NodeJS.Platform): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
  if (platform === 'darwin') env.KMP_DUPLICATE_LIB_OK = 'TRUE';
  const separator = platform === 'win32' ? ';' : platform === process.platform ? delimiter : ':';
  env.PYTHONPATH = base.PYTHONPATH ? `${trainerDir}${separator}${base.PYTHONPATH}` : trainerDir;
  return env;
}

export function launchTrainer(options: TrainerLaunchOptions): TrainerProcess {
  const platform = options.platform ?? process.platform;
  const child = spawn(options.python, ['-m', 'vin_ocr', ...options.args], {
    cwd: options.cwd,
    env: trainerEnvironment(options.baseEnv ?? process.env, options.trainerDir, platform),
    detached: platform !== 'win32',
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });

  const events = new JsonLinesReader({
    value: (value) => options.onEvent(classifyEvent(value), value),
    problem: (problem) => (problem.kind === 'not-json' ? options.onLog(problem.line, 'stdout') : options.onProblem?.(problem)),
  });
  const stderr = new LineSplitter((line) => options.onLog(line, 'stderr'));
  child.stdout.on('data', (chunk: Buffer) => events.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

  const exited = new Promise<TrainerExit>((resolve) => {
    let settled = false;
    const finish = (exit: TrainerExit) => {
      if (settled) return;
      settled = true;
      events.end();
      stderr.end();
      resolve(exit);
    };
    // 'close' comes after the output streams are drained, so no event is lost after the exit.
    child.on('close', (code, signal) => finish({ exitCode: code ?? undefined, signal: signal ?? undefined }));
    child.on('error', (error: NodeJS.ErrnoException) =>
      finish({ exitCode: undefined, signal: undefined, spawnError: `could not start ${options.python}: ${error.code ?? error.message}` }),
    );
  });

  return {
    pid: child.pid,
    exited,
    async stop(killOptions) {
      if (child.pid === undefined) return { forced: false, gone: true };
      return killProcessTree(child.pid, { ...killOptions, platform });
    },
  };
}

export interface OneShotResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string[];
  spawnError?: string;
  timedOut: boolean;
}

const MAX_ONE_SHOT_STDOUT = 16 * 1024 * 1024;

/**
 * Runs a short trainer command (`predict`, `evaluate`, `hardware`) and collects its JSON output.
 * The tree is ended when the timeout passes or the signal aborts, so a hung model load cannot linger.
 */
export async function runTrainerOnce(options: {
  python: string;
  trainerDir: string;
  args: readonly string[];
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onLog?: (line: string) => void;
}): Promise<OneShotResult> {
  const platform = process.platform;
  const child = spawn(options.python, ['-m', 'vin_ocr', ...options.args], {
    cwd: options.cwd,
    env: trainerEnvironment(process.env, options.trainerDir, platform),
    detached: platform !== 'win32',
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  const stderr: string[] = [];
  const splitter = new LineSplitter((line) => {
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
    options.onLog?.(line);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    if (stdoutBytes <= MAX_ONE_SHOT_STDOUT) stdout.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => splitter.push(chunk));
  let timedOut = false;
  const end = () => {
    if (child.pid !== undefined) void killProcessTree(child.pid, { graceMs: 2000, platform });
  };
  const timer = options.timeoutMs ? setTimeout(() => ((timedOut = true), end()), options.timeoutMs) : undefined;
  options.signal?.addEventListener('abort', end, { once: true });
  const outcome = await new Promise<{ exitCode: number | undefined; spawnError?: string }>((resolve) => {
    child.on('close', (code) => resolve({ exitCode: code ?? undefined }));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ exitCode: undefined, spawnError: `could not start ${options.python}: ${error.code ?? error.message}` }));
  });
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener('abort', end);
  splitter.end();
  return { ...outcome, stdout: Buffer.concat(stdout).toString('utf8'), stderr, timedOut };
}
