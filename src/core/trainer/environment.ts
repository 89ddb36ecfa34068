// Creates the trainer's virtual environment with the torch build that fits this machine.
// Idempotent: a stamp records what was installed, so a second run with nothing changed only
// checks the stamp. Every step's output is streamed to the caller's log.

import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HardwareFacts } from '../hardware/types';
import { LineSplitter } from './jsonl-reader';

export type TorchBuild = 'cuda' | 'mps' | 'cpu';

export interface TorchChoice {
  build: TorchBuild;
  /** pip's `--index-url` for torch; undefined means the default index (PyPI). */
  indexUrl?: string;
  reason: string;
}

const TORCH_INDEX = 'https://download.pytorch.org/whl';
/** CUDA wheels torch publishes, newest first, with the driver's CUDA version each needs. */
const CUDA_WHEELS: { tag: string; needs: number }[] = [
  { tag: 'cu130', needs: 13.0 },
  { tag: 'cu128', needs: 12.8 },
  { tag: 'cu126', needs: 12.6 },
];

export function chooseTorchBuild(
  facts: Pick<HardwareFacts, 'os' | 'arch' | 'gpus' | 'nvidia_driver' | 'cuda_driver_version'>,
): TorchChoice {
  if (facts.os === 'darwin') {
    return facts.arch === 'arm64'
      ? { build: 'mps', reason: 'Apple Silicon: the standard macOS wheels include the MPS backend.' }
      : { build: 'cpu', reason: 'Intel Mac: no GPU backend; the standard wheels run on the CPU.' };
  }
  const nvidia = facts.gpus.some((gpu) => /nvidia/i.test(gpu.vendor)) && facts.nvidia_driver !== null;
  const driverCuda = Number.parseFloat(facts.cuda_driver_version ?? '');
  if (nvidia && Number.isFinite(driverCuda)) {
    const wheel = CUDA_WHEELS.find((candidate) => driverCuda >= candidate.needs);
    if (wheel)
      return {
        build: 'cuda',
        indexUrl: `${TORCH_INDEX}/${wheel.tag}`,
        reason: `NVIDIA driver supports CUDA ${facts.cuda_driver_version}: torch ${wheel.tag} wheels.`,
      };
    return {
      build: 'cpu',
      indexUrl: `${TORCH_INDEX}/cpu`,
      reason:
        `NVIDIA driver supports only CUDA ${facts.cuda_driver_version}; ` + 'update the driver for GPU training. Installing the CPU build.',
    };
  }
  if (nvidia)
    return {
      build: 'cuda',
      indexUrl: `${TORCH_INDEX}/cu126`,
      reason: 'NVIDIA GPU with an unknown CUDA driver version: torch cu126 wheels.',
    };
  return { build: 'cpu', indexUrl: `${TORCH_INDEX}/cpu`, reason: 'No NVIDIA GPU: the CPU build (much smaller download).' };
}

export function venvPython(venvDir: string, os: NodeJS.Platform | HardwareFacts['os']): string {
  return os === 'win32' ? join(venvDir, 'Scripts', 'python.exe') : join(venvDir, 'bin', 'python');
}

export interface SetupStep {
  title: string;
  command: string;
  args: string[];
  /**
   * The torch install: `--index-url` of the build for this machine is added only when pip's own configuration
   * names no package source (see `pipSourcesInUse`), so a user's index, mirror or wheel folder always wins.
   */
  torchIndexUrl?: string;
}

export interface EnvironmentPlan {
  /** What the log calls it ("Trainer environment" when unset). */
  name?: string;
  venvDir: string;
  python: string;
  torch: TorchChoice;
  steps: SetupStep[];
  /** What the stamp must hold for the environment to count as up to date. */
  fingerprint: string;
}

export interface PlanInput {
  venvDir: string;
  /** A Python 3.9+ to create the venv with (the resolved interpreter or `python3`). */
  basePython: string;
  /** The trainer's requirements.txt text. */
  requirements: string;
  requirementsFile: string;
  /**
   * The text of `requirements-onnx.txt` (ONNX export and ONNX Runtime, installed from beside `requirementsFile`),
   * when the caller read it: it joins the fingerprint, so a change to it installs again.
   */
  onnxRequirements?: string;
  os: HardwareFacts['os'];
  torch: TorchChoice;
  venvExists: boolean;
}

/** The torch requirement line (`torch==2.13.0`), so the torch-specific index installs exactly that version. */
export function torchRequirement(requirements: string): string {
  const line = requirements
    .split(/\r?\n/)
    .map((entry) => entry.replace(/#.*/, '').trim())
    .find((entry) => /^torch\b/i.test(entry));
  return line ?? 'torch';
}

/** The ONNX requirements beside the trainer's requirements.txt (trainer/requirements-onnx.txt). */
export const ONNX_REQUIREMENTS_FILE = 'requirements-onnx.txt';

export function planEnvironment(input: PlanInput): EnvironmentPlan {
  const python = venvPython(input.venvDir, input.os);
  const steps: SetupStep[] = [];
  if (!input.venvExists)
    steps.push({ title: 'Create the virtual environment', command: input.basePython, args: ['-m', 'venv', input.venvDir] });
  steps.push({ title: 'Update pip', command: python, args: ['-m', 'pip', 'install', '--upgrade', 'pip'] });
  steps.push({
    title: `Install torch (${input.torch.build})`,
    command: python,
    args: ['-m', 'pip', 'install', torchRequirement(input.requirements)],
    ...(input.torch.indexUrl ? { torchIndexUrl: input.torch.indexUrl } : {}),
  });
  // torch is already satisfied by now (a local version such as +cpu matches ==X.Y.Z), so PyPI adds only the rest.
  steps.push({ title: 'Install the trainer requirements', command: python, args: ['-m', 'pip', 'install', '-r', input.requirementsFile] });
  // "Export Model…" (ONNX) works in the environment this creates; torch is not in the file, so it stays the build above.
  const onnxFile = join(dirname(input.requirementsFile), ONNX_REQUIREMENTS_FILE);
  steps.push({ title: 'Install ONNX export and ONNX Runtime', command: python, args: ['-m', 'pip', 'install', '-r', onnxFile] });
  const fingerprint = createHash('sha256')
    .update(input.requirements)
    .update('\0')
    .update(input.torch.indexUrl ?? 'pypi')
    // An environment stamped before the ONNX step existed is not up to date.
    .update(`\0${ONNX_REQUIREMENTS_FILE}\0${input.onnxRequirements ?? ''}`)
    .digest('hex');
  return { venvDir: input.venvDir, python, torch: input.torch, steps, fingerprint };
}

/** pip options that choose where packages come from. */
const SOURCE_OPTIONS = ['index-url', 'extra-index-url', 'find-links', 'no-index'];
/** The sections of pip's configuration that `pip install` reads. */
const INSTALL_SECTIONS = ['global', 'install', ':env:'];

/**
 * The package sources pip's own configuration names, from `pip config list` (configuration files and PIP_*
 * variables, e.g. `global.index-url='https://mirror/simple'`, `:env:.find-links='/opt/wheels'`), as
 * `name=value` lines. Empty when pip would use only its default index (PyPI).
 */
export function pipSourcesFromConfigList(text: string): string[] {
  const sources: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^(.+)\.([\w-]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, section, rawName, rawValue] = match;
    const name = rawName!.toLowerCase().replace(/_/g, '-');
    if (!INSTALL_SECTIONS.includes(section!) || !SOURCE_OPTIONS.includes(name)) continue;
    const value = rawValue!.replace(/^(['"])(.*)\1$/, '$2').trim();
    if (value === '' || (name === 'no-index' && /^(0|false|no|off)$/i.test(value))) continue;
    sources.push(`${name}=${value}`);
  }
  return sources;
}

/** The same from PIP_* variables alone (when pip cannot be asked). */
export function pipSourcesFromEnv(env: NodeJS.ProcessEnv): string[] {
  return SOURCE_OPTIONS.flatMap((name) => {
    const value = env[`PIP_${name.toUpperCase().replace(/-/g, '_')}`]?.trim();
    return value ? [`${name}=${value}`] : [];
  });
}

/** Runs a command and collects its output; undefined when it cannot start or fails. */
function capture(command: string, args: string[], signal: AbortSignal | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'ignore'],
      windowsHide: true,
      signal,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? output : undefined));
  });
}

/**
 * The package sources pip's own configuration names, asked of the environment's pip (`pip config list` reads
 * the same files and variables `pip install` does), else read from the PIP_* variables.
 */
export async function pipSourcesInUse(python: string, signal?: AbortSignal): Promise<string[]> {
  const listed = await capture(python, ['-m', 'pip', 'config', 'list'], signal);
  const sources = listed === undefined ? [] : pipSourcesFromConfigList(listed);
  for (const fromEnv of pipSourcesFromEnv(process.env)) if (!sources.includes(fromEnv)) sources.push(fromEnv);
  return sources;
}

/**
 * The arguments a step really runs with. For the torch install: the user's pip sources when pip's configuration
 * names any (an index, a mirror, a wheel folder: never overridden), else the index of the torch build for this machine.
 */
export async function resolveStepArgs(step: SetupStep, log: (line: string) => void, signal?: AbortSignal): Promise<string[]> {
  if (!step.torchIndexUrl) return step.args;
  const sources = await pipSourcesInUse(step.command, signal);
  if (sources.length > 0) {
    log(`pip's configuration names where packages come from (${sources.join(', ')}): torch is installed from there.`);
    return step.args;
  }
  log(
    `pip's configuration names no package source: torch comes from ${step.torchIndexUrl} ` +
      '(set PIP_INDEX_URL or `pip config set global.index-url` to use your own index).',
  );
  return [...step.args, '--index-url', step.torchIndexUrl];
}

export const STAMP_FILE = '.vin-ocr-environment';

export async function isUpToDate(plan: Pick<EnvironmentPlan, 'venvDir' | 'fingerprint'>): Promise<boolean> {
  try {
    return (await readFile(join(plan.venvDir, STAMP_FILE), 'utf8')).trim() === plan.fingerprint;
  } catch {
    return false;
  }
}

export interface SetupResult {
  python: string;
  /** True when the stamp said everything was installed already. */
  upToDate: boolean;
}

export class SetupError extends Error {
  constructor(
    readonly step: SetupStep,
    readonly exitCode: number | undefined,
  ) {
    super(`${step.title} failed${exitCode === undefined ? '' : ` (exit code ${exitCode})`}: ${step.command} ${step.args.join(' ')}`);
  }
}

/** Runs one command (no shell) with its output streamed; resolves with the exit code, undefined if it could not start. */
function runStep(step: SetupStep, lines: LineSplitter, signal: AbortSignal | undefined): Promise<number | undefined> {
  return new Promise((resolve) => {
    const child = spawn(step.command, step.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      signal,
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONUNBUFFERED: '1' },
    });
    child.stdout.on('data', (chunk: Buffer) => lines.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => lines.push(chunk));
    child.on('error', (error) => {
      lines.push(`${error.message}\n`);
      resolve(undefined);
    });
    child.on('close', (code) => resolve(code ?? undefined));
  });
}

/** Runs the plan step by step; stops at the first failure. `onStep` reports 0-based progress. */
export async function runEnvironmentPlan(
  // Any venv plan: SkyPilot's own environment (src/core/cloud/sky.ts) has no torch choice.
  plan: Omit<EnvironmentPlan, 'torch'>,
  log: (line: string) => void,
  options: { signal?: AbortSignal; onStep?: (index: number, step: SetupStep) => void; force?: boolean } = {},
): Promise<SetupResult> {
  if (!options.force && (await isUpToDate(plan))) {
    log(`${plan.name ?? 'Trainer environment'} ${plan.venvDir} is up to date.`);
    return { python: plan.python, upToDate: true };
  }
  for (const [index, planned] of plan.steps.entries()) {
    options.onStep?.(index, planned);
    const step = { ...planned, args: await resolveStepArgs(planned, log, options.signal) };
    if (options.signal?.aborted) throw new Error('Environment set-up was cancelled.');
    log(`$ ${step.command} ${step.args.join(' ')}`);
    const lines = new LineSplitter(log);
    const exitCode = await runStep(step, lines, options.signal);
    lines.end();
    if (options.signal?.aborted) throw new Error('Environment set-up was cancelled.');
    if (exitCode !== 0) throw new SetupError(step, exitCode);
  }
  await writeFile(join(plan.venvDir, STAMP_FILE), `${plan.fingerprint}\n`);
  log(`${plan.name ?? 'Trainer environment'} ready: ${plan.python}`);
  return { python: plan.python, upToDate: false };
}
