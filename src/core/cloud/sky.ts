// SkyPilot's `sky` executable: where it is, how we make our own environment for it, and how it is run
// (an argument array, no shell, output streamed line by line, the whole process tree ended on abort).
// SkyPilot keeps the credentials: nothing here reads ~/.aws, ~/.config/gcloud, ~/.azure or ~/.sky, and
// the environment is passed through untouched and never logged.

import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { skypilotPin } from '../hardware/requirements';
import { findOnPath } from '../interpreter/resolve';
import type { EnvironmentPlan, SetupStep } from '../trainer/environment';
import { LineSplitter } from '../trainer/jsonl-reader';
import { killProcessTree, processGroupAlive } from '../trainer/kill-tree';
import type { SkyInstallation } from './types';

/** Our own environment for SkyPilot, under the extension's (or the CLI's) storage folder. */
export const MANAGED_ENVIRONMENT = 'sky-env';

export interface FindSkyOptions {
  /** The `vinOcr.cloud.skyPath` setting's value. */
  settingPath?: string;
  /** The setting comes from the user's own settings (not a workspace's). */
  settingIsUserLevel?: boolean;
  workspaceTrusted?: boolean;
  /** Where our managed environment lives: `<storageDir>/sky-env/bin/sky`. */
  storageDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Also ask `sky --version` (about a second). */
  withVersion?: boolean;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function managedSkyPath(storageDir: string, platform: NodeJS.Platform = process.platform): string {
  const venv = join(storageDir, MANAGED_ENVIRONMENT);
  return platform === 'win32' ? join(venv, 'Scripts', 'sky.exe') : join(venv, 'bin', 'sky');
}

/**
 * The setting (only a user-level value in a trusted workspace: a workspace must not pick the program that
 * holds the user's cloud credentials), else `sky` on PATH, else our managed environment.
 */
export async function findSky(options: FindSkyOptions = {}): Promise<SkyInstallation | undefined> {
  const found = await locateSky(options);
  if (!found || !options.withVersion) return found;
  const version = await skyVersion(found.path, options.env);
  return version ? { ...found, version } : found;
}

async function locateSky(options: FindSkyOptions): Promise<SkyInstallation | undefined> {
  const setting = options.settingPath?.trim();
  if (setting && options.workspaceTrusted && options.settingIsUserLevel && (await isExecutable(setting))) {
    return { path: setting, source: 'setting' };
  }
  const onPath = await findOnPath('sky', options.env ?? process.env);
  if (onPath) return { path: onPath, source: 'path' };
  if (options.storageDir) {
    const managed = managedSkyPath(options.storageDir, options.platform);
    if (await isExecutable(managed)) return { path: managed, source: 'managed-environment' };
  }
  return undefined;
}

/** `skypilot, version 0.14.1` → `0.14.1`. */
export function parseSkyVersion(text: string): string | undefined {
  return /version\s+(\d+\.\d+[\w.+-]*)/i.exec(text)?.[1];
}

async function skyVersion(path: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  const result = await runSky({ path }, ['--version'], { env });
  return result.exitCode === 0 ? parseSkyVersion(result.output) : undefined;
}

// ---------- our own environment for SkyPilot ----------

/** `skypilot==0.14.1` with the clouds' extras: `skypilot[aws,gcp]==0.14.1`. */
export function skyRequirement(extras: readonly string[] = []): string {
  const wanted = extras.map((extra) => extra.trim().toLowerCase()).filter((extra) => /^[a-z0-9-]+$/.test(extra));
  if (!wanted.length) return skypilotPin.pip;
  return skypilotPin.pip.replace('==', `[${[...new Set(wanted)].join(',')}]==`);
}

export interface SkyEnvironmentPlan extends Omit<EnvironmentPlan, 'torch'> {
  /** The `sky` the environment will have. */
  sky: string;
}

/**
 * The steps that create `<storageDir>/sky-env` with the pinned SkyPilot (and the extras of the clouds the user
 * chose), kept apart from the trainer's environment (SkyPilot is ~460 MB). Run it with runEnvironmentPlan.
 */
export function planSkyEnvironment(
  storageDir: string,
  options: { basePython: string; extras?: readonly string[]; venvExists?: boolean; platform?: NodeJS.Platform },
): SkyEnvironmentPlan {
  const platform = options.platform ?? process.platform;
  const venvDir = join(storageDir, MANAGED_ENVIRONMENT);
  const python = platform === 'win32' ? join(venvDir, 'Scripts', 'python.exe') : join(venvDir, 'bin', 'python');
  const requirement = skyRequirement(options.extras);
  const steps: SetupStep[] = [];
  if (!options.venvExists)
    steps.push({ title: 'Create SkyPilot’s environment', command: options.basePython, args: ['-m', 'venv', venvDir] });
  steps.push({ title: 'Update pip', command: python, args: ['-m', 'pip', 'install', '--upgrade', 'pip'] });
  steps.push({ title: `Install ${requirement}`, command: python, args: ['-m', 'pip', 'install', requirement] });
  return { venvDir, python, steps, fingerprint: requirement, sky: managedSkyPath(storageDir, platform) };
}

// ---------- running sky ----------

export interface RunSkyOptions {
  /** Every output line (stdout and stderr), as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long `sky` gets after Ctrl+C (SIGINT) on abort before it is killed. */
  graceMs?: number;
  /** false: keep no copy of the output (a long job's log streams through onLine only). */
  keepOutput?: boolean;
}

export interface SkyRunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Everything it printed, stdout and stderr in arrival order (for the parsers). */
  output: string;
  aborted: boolean;
  /** Set when `sky` could not start at all. */
  spawnError?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Ctrl+C first, as a terminal would send it: `sky` then tells how to cancel its request on the API server
 * (`sky api cancel ID`), which a plain kill would not. Whatever is left after the grace is killed.
 */
async function interruptThenKill(pid: number, graceMs: number, platform: NodeJS.Platform): Promise<void> {
  if (platform !== 'win32') {
    try {
      process.kill(-pid, 'SIGINT');
    } catch {
      return; // already gone
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && processGroupAlive(pid, platform)) await sleep(50);
  }
  await killProcessTree(pid, { graceMs: 1000, platform });
}

/** Runs `sky ARGS…` as the leader of its own process group; on abort the whole group is ended. */
export function runSky(
  installation: Pick<SkyInstallation, 'path'>,
  args: readonly string[],
  options: RunSkyOptions = {},
): Promise<SkyRunResult> {
  const platform = process.platform;
  return new Promise((resolve) => {
    const collected: string[] = [];
    let spawnError: string | undefined;
    const child = spawn(installation.path, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: platform !== 'win32',
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const splitter = (stream: 'stdout' | 'stderr') =>
      new LineSplitter((line) => {
        if (options.keepOutput !== false) collected.push(line);
        options.onLine?.(line, stream);
      });
    const out = splitter('stdout');
    const err = splitter('stderr');
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    let killing: Promise<unknown> = Promise.resolve();
    const abort = () => {
      if (child.pid !== undefined) killing = interruptThenKill(child.pid, options.graceMs ?? 5000, platform);
    };
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (error) => (spawnError = error.message));
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', abort);
      out.end();
      err.end();
      void killing.then(() =>
        resolve({
          exitCode: code ?? undefined,
          signal: signal ?? undefined,
          output: collected.join('\n'),
          aborted: options.signal?.aborted ?? false,
          ...(spawnError ? { spawnError } : {}),
        }),
      );
    });
  });
}

// ---------- the sky command lines we use (one home) ----------

export const skyArgs = {
  /** `-y`: no prompt (we have shown the plan); autostop travels in the task's resources.autostop. */
  launch: (taskFile: string, cluster: string): string[] => ['launch', '-y', '-c', cluster, taskFile],
  /** A dry run: SkyPilot's optimizer chooses the instance (needs its catalog, i.e. the internet) without launching. */
  dryRun: (taskFile: string, cluster: string): string[] => ['launch', '--dryrun', '-y', '-c', cluster, taskFile],
  status: (cluster?: string): string[] => (cluster ? ['status', cluster] : ['status']),
  logs: (cluster: string, job?: number): string[] => (job === undefined ? ['logs', cluster] : ['logs', cluster, String(job)]),
  /** Cancels the job (without an id: the latest running one); the cluster stays up and autostops. */
  cancel: (cluster: string, job?: number): string[] =>
    job === undefined ? ['cancel', '-y', cluster] : ['cancel', '-y', cluster, String(job)],
  down: (cluster: string): string[] => ['down', '-y', cluster],
  check: (clouds: readonly string[] = []): string[] => ['check', ...clouds],
  /** Cancels a request the API server still runs for a client that was interrupted (a launch still provisioning). */
  apiCancel: (requestId: string): string[] => ['api', 'cancel', '-y', requestId],
};
