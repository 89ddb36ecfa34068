// The PaddleOCR environment: a venv of its own (`<storage>/paddle-venv`), because PaddlePaddle stays out of the
// trainer's torch environment. It holds the PaddleOCR family's install lines from data/requirements.json for this
// machine's build (CUDA wheels come from Paddle's own index, which the line names), then the packages the user's
// clone's tools/train.py imports. Planned and run like the trainer's environment (environment.ts: steps, stamp,
// runner); the trainer finds its interpreter in VIN_OCR_PADDLE_PYTHON (see resolveFamilyPython and the launcher).

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { installCommands, pipInstallArgs } from '../hardware/requirements';
import type { HardwareFacts } from '../hardware/types';
import { venvPython, type EnvironmentPlan, type SetupStep } from './environment';
import { familyVenvDir, PADDLE_ENVIRONMENT_INFO } from './family-environments';
import { CLONE_REQUIREMENTS, PADDLE_FAMILY } from './paddleocr';

/** PaddlePaddle's builds: CUDA wheels from Paddle's index, or the CPU wheels (also on a Mac: no MPS backend). */
export type PaddleBuild = 'cuda' | 'cpu';

export interface PaddleBuildChoice {
  build: PaddleBuild;
  reason: string;
}

/** `…/packages/stable/cu118/` → 11.8: the CUDA version a Paddle wheel index is built for. */
export function cudaOfIndex(url: string): number | undefined {
  const match = /\bcu(\d+)(\d)\/?$/.exec(url.trim());
  return match ? Number(`${match[1]}.${match[2]}`) : undefined;
}

/** The package index a pip install line names (`-i URL`, `--index-url URL`, `--index-url=URL`). */
export function indexOfInstallLine(line: string): string | undefined {
  const args = pipInstallArgs(line);
  for (const [index, arg] of args.entries()) {
    if (arg === '-i' || arg === '--index-url') return args[index + 1];
    if (arg.startsWith('--index-url=')) return arg.slice('--index-url='.length);
  }
  return undefined;
}

/** The CUDA version this machine's driver must support for the CUDA install lines (from their index). */
function cudaNeeded(): number | undefined {
  for (const line of installCommands(PADDLE_FAMILY, 'cuda')) {
    const index = indexOfInstallLine(line);
    const cuda = index ? cudaOfIndex(index) : undefined;
    if (cuda !== undefined) return cuda;
  }
  return undefined;
}

export function choosePaddleBuild(facts: Pick<HardwareFacts, 'os' | 'gpus' | 'nvidia_driver' | 'cuda_driver_version'>): PaddleBuildChoice {
  if (facts.os === 'darwin') return { build: 'cpu', reason: 'macOS: PaddlePaddle has no MPS backend, so the CPU wheels.' };
  const nvidia = facts.gpus.some((gpu) => /nvidia/i.test(gpu.vendor)) && facts.nvidia_driver !== null;
  if (!nvidia) return { build: 'cpu', reason: 'No NVIDIA GPU: the CPU wheels of PaddlePaddle.' };
  const needed = cudaNeeded();
  const driverCuda = Number.parseFloat(facts.cuda_driver_version ?? '');
  if (needed !== undefined && Number.isFinite(driverCuda) && driverCuda < needed) {
    return {
      build: 'cpu',
      reason:
        `NVIDIA driver supports only CUDA ${facts.cuda_driver_version}, PaddlePaddle's GPU wheels need ${needed}; ` +
        'update the driver for GPU training. Installing the CPU wheels.',
    };
  }
  return { build: 'cuda', reason: "NVIDIA GPU: PaddlePaddle's CUDA wheels from Paddle's own package index (they are not on PyPI)." };
}

export interface PaddlePlanInput {
  /** The storage folder that holds the environment (`<storageDir>/paddle-venv`). */
  storageDir: string;
  /** A Python 3.9+ to create the venv with. */
  basePython: string;
  os: HardwareFacts['os'];
  build: PaddleBuildChoice;
  venvExists: boolean;
  /** The user's PaddleOCR clone (from the config's paddleocr.repo), when one is known. */
  clone?: string;
  /** The text of `<clone>/requirements.txt`, when it could be read: its packages are installed, and it joins the fingerprint. */
  cloneRequirements?: string;
}

export interface PaddleEnvironmentPlan extends Omit<EnvironmentPlan, 'torch'> {
  build: PaddleBuildChoice;
  /** The clone whose requirements.txt the plan installs, when it does. */
  clone?: string;
}

export function paddleVenvDir(storageDir: string): string {
  return familyVenvDir(storageDir, PADDLE_ENVIRONMENT_INFO);
}

/** The family's install lines for a build, as steps of the environment's interpreter (no shell). */
function installSteps(python: string, build: PaddleBuild): SetupStep[] {
  return installCommands(PADDLE_FAMILY, build).map((line) => {
    const args = pipInstallArgs(line);
    const packages = args.slice(3).filter((arg, index, all) => !arg.startsWith('-') && !/^-/.test(all[index - 1] ?? ''));
    return { title: `Install ${packages.join(' ') || 'PaddleOCR'}`, command: python, args };
  });
}

export function planPaddleEnvironment(input: PaddlePlanInput): PaddleEnvironmentPlan {
  const venvDir = paddleVenvDir(input.storageDir);
  const python = venvPython(venvDir, input.os);
  const steps: SetupStep[] = [];
  if (!input.venvExists)
    steps.push({ title: 'Create the PaddleOCR environment', command: input.basePython, args: ['-m', 'venv', venvDir] });
  steps.push({ title: 'Update pip', command: python, args: ['-m', 'pip', 'install', '--upgrade', 'pip'] });
  steps.push(...installSteps(python, input.build.build));
  const clone = input.clone !== undefined && input.cloneRequirements !== undefined ? input.clone : undefined;
  if (clone !== undefined) {
    steps.push({
      title: "Install the clone's requirements (what tools/train.py imports)",
      command: python,
      args: ['-m', 'pip', 'install', '-r', join(clone, CLONE_REQUIREMENTS)],
    });
  }
  const fingerprint = createHash('sha256')
    .update(installCommands(PADDLE_FAMILY, input.build.build).join('\n'))
    .update(`\0${clone ?? ''}\0${clone !== undefined ? input.cloneRequirements : ''}`)
    .digest('hex');
  return {
    name: 'PaddleOCR environment',
    venvDir,
    python,
    steps,
    fingerprint,
    build: input.build,
    ...(clone !== undefined ? { clone } : {}),
  };
}
