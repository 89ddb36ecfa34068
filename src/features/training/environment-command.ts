// "VIN OCR: Set Up Trainer Environment": a venv with the torch build for this machine, with a
// progress notification and the pip output in the training log. Idempotent (the core keeps a stamp).
// For a paddleocr or deepseek-ocr config it offers that family's own environment too (paddle-environment-command.ts,
// deepseek-environment-command.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { chooseTorchBuild, ONNX_REQUIREMENTS_FILE, planEnvironment, SetupError } from '../../core/trainer/environment';
import { familyEnvironmentOf, type FamilyEnvironment, type FamilyEnvironmentId } from '../../core/trainer/family-environments';
import { requireBasePython, runPlanWithProgress } from '../environment-progress';
import type { HardwareState } from '../hardware/state';
import type { TrainingLog } from './log';
import { machineFacts } from './machine-facts';
import { setUpDeepseekEnvironment } from './deepseek-environment-command';
import { modelTypeOfConfig } from './family-environment';
import { setUpPaddleEnvironment } from './paddle-environment-command';
import { requireTrust } from './trust';

function venvFolder(context: vscode.ExtensionContext): string | undefined {
  const location = vscode.workspace.getConfiguration('vinOcr.training').get<string>('environmentLocation', 'globalStorage');
  if (location === 'workspace') {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? join(folder.uri.fsPath, '.venv') : undefined;
  }
  return join(context.globalStorageUri.fsPath, 'trainer-venv');
}

const TRAINER_CHOICE = 'Trainer (PyTorch)';

type Which = 'trainer' | FamilyEnvironmentId;

/** Why a family trains in its own environment, for the picker. */
const FAMILY_REASONS: Readonly<Record<FamilyEnvironmentId, { choice: string; placeHolder: string }>> = {
  paddleocr: {
    choice: 'PaddleOCR (PaddlePaddle, its own environment)',
    placeHolder: 'PaddleOCR trains in an environment of its own (PaddlePaddle stays out of the torch environment)',
  },
  'deepseek-ocr': {
    choice: 'DeepSeek-OCR (transformers 4.46.3, its own environment)',
    placeHolder: 'DeepSeek-OCR trains in an environment of its own (its code imports only with transformers 4.46.x–4.47.x)',
  },
};

/** The YAML file's family environment, when it is a config of a family that has one. */
async function familyConfigAt(uri: vscode.Uri | undefined): Promise<{ environment: FamilyEnvironment; config: vscode.Uri } | undefined> {
  if (!uri || uri.scheme !== 'file' || !/\.ya?ml$/i.test(uri.path)) return undefined;
  const environment = familyEnvironmentOf(await modelTypeOfConfig(uri.fsPath));
  return environment && { environment, config: uri };
}

/**
 * Which environment: the trainer's, unless the command names a config of a family with an environment of its own (or
 * the active editor shows one); then the user picks between the two, the family's first. `arg` is the Explorer's or
 * the editor's file, when any.
 */
async function chooseEnvironment(arg: unknown): Promise<{ which: Which; config?: vscode.Uri } | undefined> {
  const found = await familyConfigAt(arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri);
  if (!found) return { which: 'trainer' };
  const { environment, config } = found;
  const reason = FAMILY_REASONS[environment.id];
  const items = [
    { label: reason.choice, description: `for ${vscode.workspace.asRelativePath(config)}`, which: environment.id as Which },
    { label: TRAINER_CHOICE, description: 'torch, the trainer itself', which: 'trainer' as Which },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VIN OCR: Set Up Trainer Environment',
    placeHolder: reason.placeHolder,
  });
  return chosen && { which: chosen.which, config };
}

export async function setUpEnvironment(
  context: vscode.ExtensionContext,
  hardware: HardwareState,
  log: TrainingLog,
  arg?: unknown,
): Promise<string | undefined> {
  if (!requireTrust('Setting up the trainer environment')) return undefined;
  const choice = await chooseEnvironment(arg);
  if (!choice) return undefined;
  if (choice.which === 'paddleocr') return setUpPaddleEnvironment(context, hardware, log, choice.config);
  if (choice.which === 'deepseek-ocr') return setUpDeepseekEnvironment(context, hardware, log);
  const venvDir = venvFolder(context);
  if (!venvDir) {
    void vscode.window.showErrorMessage('VIN OCR: open a folder first, or set vinOcr.training.environmentLocation to "globalStorage".');
    return undefined;
  }
  const basePython = await requireBasePython('the trainer environment');
  if (!basePython) return undefined;
  const facts = await machineFacts(hardware);
  const torch = chooseTorchBuild(facts);
  const requirementsFile = vscode.Uri.joinPath(context.extensionUri, 'trainer', 'requirements.txt').fsPath;
  const plan = planEnvironment({
    venvDir,
    basePython,
    requirements: await readFile(requirementsFile, 'utf8'),
    requirementsFile,
    onnxRequirements: await readFile(join(dirname(requirementsFile), ONNX_REQUIREMENTS_FILE), 'utf8'),
    os: facts.os,
    torch,
    venvExists: existsSync(join(venvDir, process.platform === 'win32' ? 'Scripts' : 'bin')),
  });
  log.info(`Set up trainer environment in ${venvDir}: ${torch.reason}`);
  log.show(true);
  try {
    const result = await runPlanWithProgress('VIN OCR: setting up the trainer environment', plan, log);
    await vscode.workspace.getConfiguration('vinOcr').update('pythonPath', result.python, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(
      result.upToDate
        ? `VIN OCR: the trainer environment is already up to date (${torch.build}).`
        : `VIN OCR: trainer environment ready (${torch.build}). Training now uses ${result.python}.`,
    );
    void hardware.refresh('environment set up').catch(() => undefined);
    return result.python;
  } catch (error) {
    const detail = error instanceof SetupError ? error.message : (error as Error).message;
    log.error(detail);
    const show = 'Show Log';
    if ((await vscode.window.showErrorMessage(`VIN OCR: environment set-up failed: ${detail}`, show)) === show) log.show();
    return undefined;
  }
}
