// "VIN OCR: Set Up Trainer Environment": a venv with the torch build for this machine, with a
// progress notification and the pip output in the training log. Idempotent (the core keeps a stamp).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { chooseTorchBuild, ONNX_REQUIREMENTS_FILE, planEnvironment, SetupError } from '../../core/trainer/environment';
import { findOnPath } from '../../core/interpreter/resolve';
import { runPlanWithProgress } from '../environment-progress';
import type { HardwareState } from '../hardware/state';
import type { TrainingLog } from './log';
import { requireTrust } from './trust';

function venvFolder(context: vscode.ExtensionContext): string | undefined {
  const location = vscode.workspace.getConfiguration('vinOcr.training').get<string>('environmentLocation', 'globalStorage');
  if (location === 'workspace') {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? join(folder.uri.fsPath, '.venv') : undefined;
  }
  return join(context.globalStorageUri.fsPath, 'trainer-venv');
}

export async function setUpEnvironment(
  context: vscode.ExtensionContext,
  hardware: HardwareState,
  log: TrainingLog,
): Promise<string | undefined> {
  if (!requireTrust('Setting up the trainer environment')) return undefined;
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
  const snapshot = hardware.current ?? (await hardware.refresh('environment set-up').catch(() => undefined));
  const facts = snapshot?.facts ?? {
    os: process.platform as 'linux',
    arch: process.arch,
    gpus: [],
    nvidia_driver: null,
    cuda_driver_version: null,
  };
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
