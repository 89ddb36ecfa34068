// "VIN OCR: Set Up DeepSeek-OCR Environment": DeepSeek-OCR's own environment (`<global storage>/deepseek-venv`) with
// the pins measured on its real code (data/requirements.json) and the trainer's requirements, torch for this machine.
// DeepSeek-OCR's runs (Train, Resume, Evaluate, Read VIN, tasks) then run the trainer with its interpreter
// (family-environment.ts): the vinOcr.deepseekOcr.pythonPath setting (the user's own, trusted workspaces only) first.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { planDeepseekEnvironment } from '../../core/trainer/deepseek-environment';
import { chooseTorchBuild, SetupError, type EnvironmentPlan } from '../../core/trainer/environment';
import { DEEPSEEK_ENVIRONMENT_INFO, familyVenvDir } from '../../core/trainer/family-environments';
import { requireBasePython, runPlanWithProgress } from '../environment-progress';
import type { HardwareState } from '../hardware/state';
import { userFamilyPythonPath } from './family-environment';
import type { TrainingLog } from './log';
import { machineFacts } from './machine-facts';
import { requireTrust } from './trust';

async function planFor(context: vscode.ExtensionContext, hardware: HardwareState, basePython: string): Promise<EnvironmentPlan> {
  const facts = await machineFacts(hardware);
  const storageDir = context.globalStorageUri.fsPath;
  const requirementsFile = vscode.Uri.joinPath(context.extensionUri, 'trainer', 'requirements.txt').fsPath;
  return planDeepseekEnvironment({
    storageDir,
    basePython,
    os: facts.os,
    torch: chooseTorchBuild(facts),
    venvExists: existsSync(join(familyVenvDir(storageDir, DEEPSEEK_ENVIRONMENT_INFO), process.platform === 'win32' ? 'Scripts' : 'bin')),
    requirementsFile,
    requirements: await readFile(requirementsFile, 'utf8'),
  });
}

function readyMessage(plan: EnvironmentPlan, python: string, upToDate: boolean): string {
  const setting = userFamilyPythonPath(DEEPSEEK_ENVIRONMENT_INFO);
  const note = setting && setting !== python ? ` ${DEEPSEEK_ENVIRONMENT_INFO.setting} (${setting}) still comes first.` : '';
  return upToDate
    ? `VIN OCR: the DeepSeek-OCR environment is already up to date (${plan.torch.build}).${note}`
    : `VIN OCR: DeepSeek-OCR environment ready (${plan.torch.build}). DeepSeek-OCR runs now use ${python}.${note}`;
}

/** Creates or updates DeepSeek-OCR's environment; resolves with its interpreter, or undefined. */
export async function setUpDeepseekEnvironment(
  context: vscode.ExtensionContext,
  hardware: HardwareState,
  log: TrainingLog,
): Promise<string | undefined> {
  if (!requireTrust('Setting up the DeepSeek-OCR environment')) return undefined;
  const basePython = await requireBasePython('the DeepSeek-OCR environment');
  if (!basePython) return undefined;
  let plan: EnvironmentPlan;
  try {
    plan = await planFor(context, hardware, basePython);
  } catch (error) {
    void vscode.window.showErrorMessage(`VIN OCR: cannot set up the DeepSeek-OCR environment: ${(error as Error).message}`);
    return undefined;
  }
  log.info(`Set up the DeepSeek-OCR environment in ${plan.venvDir}: ${plan.torch.reason}`);
  log.info(
    'No torchvision and no flash-attn stub: the trainer stands in for the four torchvision names the code imports, and its ' +
      'flash_attn import is guarded. flash_attention_2 on CUDA needs flash-attn 2 installed into it by hand; eager runs everywhere.',
  );
  log.show(true);
  try {
    const result = await runPlanWithProgress('VIN OCR: setting up the DeepSeek-OCR environment', plan, log);
    void vscode.window.showInformationMessage(readyMessage(plan, result.python, result.upToDate));
    return result.python;
  } catch (error) {
    const detail = error instanceof SetupError ? error.message : (error as Error).message;
    log.error(detail);
    const show = 'Show Log';
    if ((await vscode.window.showErrorMessage(`VIN OCR: DeepSeek-OCR environment set-up failed: ${detail}`, show)) === show) log.show();
    return undefined;
  }
}
