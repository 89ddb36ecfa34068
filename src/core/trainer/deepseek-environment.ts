// DeepSeek-OCR's environment (`<storage>/deepseek-venv`): its remote code imports only with transformers
// 4.46.3–4.47.x while LFM2.5-VL needs 4.57+, so the whole trainer runs in an environment of its own for this family.
// It holds the pins measured on the real code (the DeepSeek-OCR row's `environment.pip` in data/requirements.json,
// the same list scripts/setup-deepseek.sh installs) plus the trainer's own requirements, with torch from the index
// of this machine's build (the CPU wheels on a machine without an NVIDIA GPU). No torchvision (PyPI's breaks beside a
// CPU torch; the trainer stands in for the four names the code imports) and no flash-attn stub (its import is guarded).

import { createHash } from 'node:crypto';
import { findModel } from '../hardware/requirements';
import type { HardwareFacts } from '../hardware/types';
import { torchRequirement, venvPython, type EnvironmentPlan, type SetupStep, type TorchChoice } from './environment';
import { DEEPSEEK_ENVIRONMENT_INFO, familyVenvDir } from './family-environments';

/** The DeepSeek-OCR row's pins (`environment.pip`), a fresh copy; throws when the data file lost them. */
export function deepseekPins(): string[] {
  const pins = findModel(DEEPSEEK_ENVIRONMENT_INFO.id)?.environment?.pip;
  if (!pins?.length) throw new Error("data/requirements.json has no DeepSeek-OCR environment (its row's environment.pip)");
  return [...pins];
}

export interface DeepseekPlanInput {
  /** The storage folder that holds the environment (`<storageDir>/deepseek-venv`). */
  storageDir: string;
  /** A Python 3.9+ to create the venv with. */
  basePython: string;
  os: HardwareFacts['os'];
  torch: TorchChoice;
  venvExists: boolean;
  /** The trainer's requirements.txt, installed with the pins so that pip resolves both together. */
  requirementsFile: string;
  /** Its text, for the fingerprint. */
  requirements: string;
  /** The pins (default: data/requirements.json's). */
  pins?: readonly string[];
}

const isTorchPin = (pin: string) => /^torch\b(?![\w-])/i.test(pin.trim());

export function planDeepseekEnvironment(input: DeepseekPlanInput): EnvironmentPlan {
  const venvDir = familyVenvDir(input.storageDir, DEEPSEEK_ENVIRONMENT_INFO);
  const python = venvPython(venvDir, input.os);
  const pins = [...(input.pins ?? deepseekPins())];
  const torchPin = pins.find(isTorchPin) ?? torchRequirement(input.requirements);
  const steps: SetupStep[] = [];
  if (!input.venvExists)
    steps.push({ title: 'Create the DeepSeek-OCR environment', command: input.basePython, args: ['-m', 'venv', venvDir] });
  steps.push({ title: 'Update pip', command: python, args: ['-m', 'pip', 'install', '--upgrade', 'pip'] });
  steps.push({
    title: `Install torch (${input.torch.build})`,
    command: python,
    args: ['-m', 'pip', 'install', torchPin],
    ...(input.torch.indexUrl ? { torchIndexUrl: input.torch.indexUrl } : {}),
  });
  // torch is satisfied by now (a local version such as +cpu matches ==X.Y.Z), so PyPI adds only the rest.
  steps.push({
    title: "Install DeepSeek-OCR's pins (transformers 4.46.3) and the trainer's requirements",
    command: python,
    args: ['-m', 'pip', 'install', ...pins.filter((pin) => !isTorchPin(pin)), '-r', input.requirementsFile],
  });
  const fingerprint = createHash('sha256')
    .update(pins.join('\n'))
    .update(`\0${input.requirements}\0${input.torch.indexUrl ?? 'pypi'}`)
    .digest('hex');
  return { name: 'DeepSeek-OCR environment', venvDir, python, torch: input.torch, steps, fingerprint };
}
