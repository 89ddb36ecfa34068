// The launcher for this machine: the trainer leads its own process group (POSIX) so that cancel
// ends its DataLoader workers too, and a tree kill makes sure nothing of it outlives the run.
// Arguments always travel as an array, never through a shell.
// node:child_process rather than execa: execa 9 is ESM-only and cannot be loaded by the unit
// tests' CommonJS loader (tsx); what we need from it (no shell, detached group, streaming) is
// a few lines here.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { delimiter } from 'node:path';
import type { Readable } from 'node:stream';
import { BoundedLineSplitter, DEFAULT_MAX_LINE_BYTES, LineSplitter } from './jsonl-reader';
import { killProcessTree } from './kill-tree';
import type { CancelResult, TrainerExit, TrainerLaunchRequest, TrainerLauncher, TrainerProcessHandle } from './launcher';
import { PADDLE_PYTHON_ENV } from './paddleocr';

export interface LocalLauncherOptions {
  /** `<extensionRoot>/trainer`: put first on PYTHONPATH so `-m vin_ocr` is the bundled package. */
  trainerDir: string;
  /** The environment to extend; defaults to this process's. */
  baseEnv?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /**
   * The PaddleOCR environment's interpreter, asked at each start (the user may set it up meanwhile): handed to the
   * trainer in VIN_OCR_PADDLE_PYTHON. Never from a workspace's settings (the caller's job, see resolvePaddlePython).
   */
  paddlePython?: () => string | undefined;
}

/** Workers that outlive their leader get this long after SIGTERM before SIGKILL. */
const LEFTOVER_GRACE_MS = 1000;

/**
 * The trainer's environment: unbuffered output, the OpenMP workaround on macOS, the bundled package first, and the
 * PaddleOCR environment's interpreter when one was resolved (otherwise whatever the caller's environment says).
 */
export function trainerEnvironment(
  base: NodeJS.ProcessEnv,
  trainerDir: string,
  platform: NodeJS.Platform,
  paddlePython?: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
  if (platform === 'darwin') env.KMP_DUPLICATE_LIB_OK = 'TRUE';
  const separator = platform === 'win32' ? ';' : platform === process.platform ? delimiter : ':';
  env.PYTHONPATH = base.PYTHONPATH ? `${trainerDir}${separator}${base.PYTHONPATH}` : trainerDir;
  if (paddlePython) env[PADDLE_PYTHON_ENV] = paddlePython;
  return env;
}

export function createLocalLauncher(options: LocalLauncherOptions): TrainerLauncher {
  const platform = options.platform ?? process.platform;
  return {
    description: platform === 'win32' ? 'this machine, one process tree per trainer' : 'this machine, one process group per trainer',
    start: (request) => startLocal(request, options, platform),
  };
}

function startLocal(request: TrainerLaunchRequest, options: LocalLauncherOptions, platform: NodeJS.Platform): TrainerProcessHandle {
  const child = spawn(request.python, ['-m', 'vin_ocr', ...request.args], {
    cwd: request.cwd,
    env: trainerEnvironment(options.baseEnv ?? process.env, options.trainerDir, platform, options.paddlePython?.()),
    detached: platform !== 'win32',
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const cancel = async (graceMs?: number): Promise<CancelResult> => {
    if (child.pid === undefined) return { forced: false, gone: true };
    return killProcessTree(child.pid, { graceMs, platform });
  };
  // The leader may exit while workers linger (they also hold its output pipes open, so 'close' would
  // wait for them): once it is gone, its group is ended. Windows has no group left to look at.
  let leftovers: Promise<CancelResult> | undefined;
  if (platform !== 'win32') child.on('exit', () => (leftovers = cancel(LEFTOVER_GRACE_MS)));
  const processExit = waitForClose(child, readLines(child, request), request.python);
  return {
    pid: child.pid,
    description: describeLocal(child.pid, request, platform),
    // The run is over only when its whole group is gone.
    exited: processExit.then(async (exit) => {
      await leftovers;
      return exit;
    }),
    cancel: (cancelOptions) => cancel(cancelOptions?.graceMs),
  };
}

/** Splits the child's output into lines for the request; returns what flushes the last partial lines. */
function readLines(child: ChildProcessByStdio<null, Readable, Readable>, request: TrainerLaunchRequest): () => void {
  const { output } = request;
  const maxLineBytes = request.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const stdout = new BoundedLineSplitter(
    (line) => output.stdout(line),
    (bytes) => output.overlong?.(bytes),
    maxLineBytes,
  );
  const stderr = new LineSplitter((line) => output.stderr(line));
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return () => {
    stdout.end();
    stderr.end();
  };
}

/** The exit, once the output is drained ('close' comes after the streams end, so no line is lost). */
function waitForClose(child: ChildProcessByStdio<null, Readable, Readable>, flush: () => void, python: string): Promise<TrainerExit> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (exit: TrainerExit) => {
      if (settled) return;
      settled = true;
      flush();
      resolve(exit);
    };
    child.on('close', (code, signal) => finish({ exitCode: code ?? undefined, signal: signal ?? undefined }));
    child.on('error', (error: NodeJS.ErrnoException) =>
      finish({ exitCode: undefined, signal: undefined, spawnError: `could not start ${python}: ${error.code ?? error.message}` }),
    );
  });
}

function describeLocal(pid: number | undefined, request: TrainerLaunchRequest, platform: NodeJS.Platform): string {
  const where = pid === undefined ? 'not started' : platform === 'win32' ? `pid ${pid}` : `pid ${pid}, own process group`;
  return `${request.python} -m vin_ocr ${request.args.join(' ')} (${where})`;
}
