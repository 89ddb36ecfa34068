// "VIN OCR: Set Up Trainer Environment": a venv with the torch build for this machine, with a
// progress notification and the pip output in the training log. Idempotent (the core keeps a stamp).
// For a paddleocr config it offers the PaddleOCR environment too (paddle-environment-command.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { chooseTorchBuild, ONNX_REQUIREMENTS_FILE, planEnvironment, SetupError } from '../../core/trainer/environment';
import { findOnPath } from '../../core/interpreter/resolve';
import { runPlanWithProgress } from '../environment-progress';
import type { HardwareState } from '../hardware/state';
import type { TrainingLog } from './log';
import { machineFacts } from './machine-facts';
import { activePaddleConfig, paddleConfigAt, setUpPaddleEnvironment } from './paddle-environment-command';
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
const PADDLE_CHOICE = 'PaddleOCR (PaddlePaddle, its own environment)';

/**
 * Which environment: the trainer's, unless the command names a paddleocr config (or the active editor shows one);
 * then the user picks between the two, PaddleOCR first. `arg` is the Explorer's or the editor's file, when any.
 */
async function chooseEnvironment(arg: unknown): Promise<{ which: 'trainer' | 'paddleocr'; config?: vscode.Uri } | undefined> {
  const config = arg instanceof vscode.Uri ? await paddleConfigAt(arg) : await activePaddleConfig();
  if (!config) return { which: 'trainer' };
  const items = [
    { label: PADDLE_CHOICE, description: `for ${vscode.workspace.asRelativePath(config)}`, which: 'paddleocr' as const },
    { label: TRAINER_CHOICE, description: 'torch, the trainer itself', which: 'trainer' as const },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VIN OCR: Set Up Trainer Environment',
    placeHolder: 'PaddleOCR trains in an environment of its own (PaddlePaddle stays out of the torch environment)',
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
  const venvDir = venvFolder(context);
  if (!venvDir) {
    void vscode.window.showErrorMessage('VIN OCR: open a folder first, or set vinOcr.training.environmentLocation to "globalStorage".');
    return undefined;
  }
  const basePython = (await findOnPath(process.platform === 'win32' ? 'python' : 'python3')) ?? (await findOnPath('python'));
  if (!basePython) {
    void vscode.window.showErrorMessage(
      'VIN OCR: no Python 3 found on PATH to create the environment with. Install Python 3.9 or newer first.',
    );
    return undefined;
  }
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
