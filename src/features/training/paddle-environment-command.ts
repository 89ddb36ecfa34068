// "VIN OCR: Set Up PaddleOCR Environment": PaddlePaddle and PaddleOCR in an environment of their own
// (`<global storage>/paddle-venv`), never in the trainer's torch environment, plus the packages the config's
// PaddleOCR clone needs for tools/train.py. The trainer gets the environment's interpreter in VIN_OCR_PADDLE_PYTHON:
// the vinOcr.paddleocr.pythonPath setting (the user's own, trusted workspaces only), else this managed environment
// (family-environment.ts finds it).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { SetupError } from '../../core/trainer/environment';
import { PADDLE_ENVIRONMENT_INFO } from '../../core/trainer/family-environments';
import { choosePaddleBuild, paddleVenvDir, planPaddleEnvironment, type PaddleEnvironmentPlan } from '../../core/trainer/paddle-environment';
import { CLONE_REQUIREMENTS, isPaddleocrConfig, paddleCloneOf } from '../../core/trainer/paddleocr';
import { NOT_CONFIGS_GLOB } from '../../core/trainer/run-layout';
import { parseConfigData } from '../../core/trainer/training-config';
import { requireBasePython, runPlanWithProgress } from '../environment-progress';
import type { HardwareState } from '../hardware/state';
import { machineFacts } from './machine-facts';
import type { TrainingLog } from './log';
import { userFamilyPythonPath } from './family-environment';
import { requireTrust } from './trust';

const MAX_CONFIGS_SCANNED = 200;

interface PaddleConfig {
  uri: vscode.Uri;
  data: Record<string, unknown>;
}

async function readPaddleConfig(uri: vscode.Uri): Promise<PaddleConfig | undefined> {
  try {
    const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString());
    const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    const data = parseConfigData(text);
    return data && isPaddleocrConfig(data) ? { uri, data } : undefined;
  } catch {
    return undefined;
  }
}

/** The file, when it is a paddleocr training config. */
export async function paddleConfigAt(uri: vscode.Uri): Promise<vscode.Uri | undefined> {
  if (!/\.ya?ml$/i.test(uri.path)) return undefined;
  return (await readPaddleConfig(uri))?.uri;
}

/** The active editor's config, when it is a paddleocr training config. */
export async function activePaddleConfig(): Promise<vscode.Uri | undefined> {
  const document = vscode.window.activeTextEditor?.document;
  return document ? paddleConfigAt(document.uri) : undefined;
}

/** Whose clone to install the requirements of: the given config, the active editor's, or the workspace's paddleocr configs. */
async function choosePaddleConfig(explicit: vscode.Uri | undefined): Promise<PaddleConfig | undefined | 'cancelled'> {
  if (explicit) return readPaddleConfig(explicit);
  const active = await activePaddleConfig();
  if (active) return readPaddleConfig(active);
  const files = await vscode.workspace.findFiles('**/*.{yaml,yml}', NOT_CONFIGS_GLOB, MAX_CONFIGS_SCANNED);
  const configs: PaddleConfig[] = [];
  for (const uri of files) {
    const config = await readPaddleConfig(uri);
    if (config) configs.push(config);
  }
  if (configs.length <= 1) return configs[0];
  const items = configs
    .map((config) => ({ label: vscode.workspace.asRelativePath(config.uri), description: cloneLabel(config), config }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VIN OCR: Set Up PaddleOCR Environment',
    placeHolder: 'Whose PaddleOCR clone? Its requirements.txt is installed too (what tools/train.py imports)',
  });
  return chosen ? chosen.config : 'cancelled';
}

function cloneLabel(config: PaddleConfig): string {
  const clone = paddleCloneOf(config.uri.fsPath, config.data);
  return clone ? `clone: ${clone}` : 'no paddleocr.repo';
}

/** Creates or updates the PaddleOCR environment; resolves with its interpreter, or undefined. */
export async function setUpPaddleEnvironment(
  context: vscode.ExtensionContext,
  hardware: HardwareState,
  log: TrainingLog,
  arg?: unknown,
): Promise<string | undefined> {
  if (!requireTrust('Setting up the PaddleOCR environment')) return undefined;
  const explicit = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg ? vscode.Uri.file(arg) : undefined;
  const config = await choosePaddleConfig(explicit);
  if (config === 'cancelled') return undefined;
  const basePython = await requireBasePython('the PaddleOCR environment');
  if (!basePython) return undefined;
  const facts = await machineFacts(hardware);
  const build = choosePaddleBuild(facts);
  const clone = config ? paddleCloneOf(config.uri.fsPath, config.data) : undefined;
  const cloneRequirements = clone ? await readFile(join(clone, CLONE_REQUIREMENTS), 'utf8').catch(() => undefined) : undefined;
  const storageDir = context.globalStorageUri.fsPath;
  let plan: PaddleEnvironmentPlan;
  try {
    plan = planPaddleEnvironment({
      storageDir,
      basePython,
      os: facts.os,
      build,
      venvExists: existsSync(join(paddleVenvDir(storageDir), process.platform === 'win32' ? 'Scripts' : 'bin')),
      clone,
      cloneRequirements,
    });
  } catch (error) {
    // An install line that would need a shell: a packaging bug of data/requirements.json, said plainly.
    void vscode.window.showErrorMessage(`VIN OCR: cannot set up the PaddleOCR environment: ${(error as Error).message}`);
    return undefined;
  }
  log.info(`Set up the PaddleOCR environment in ${plan.venvDir}: ${build.reason}`);
  if (!config) log.warn("No paddleocr training config found: the clone's requirements.txt is not installed. Run this again with one open.");
  else if (!clone)
    log.warn(`${vscode.workspace.asRelativePath(config.uri)} has no paddleocr.repo: the clone's requirements.txt is not installed.`);
  else if (cloneRequirements === undefined)
    log.warn(`${join(clone, CLONE_REQUIREMENTS)} could not be read: the clone's packages are not installed.`);
  log.show(true);
  try {
    const result = await runPlanWithProgress('VIN OCR: setting up the PaddleOCR environment', plan, log);
    const setting = userFamilyPythonPath(PADDLE_ENVIRONMENT_INFO);
    const note = setting && setting !== result.python ? ` ${PADDLE_ENVIRONMENT_INFO.setting} (${setting}) still comes first.` : '';
    void vscode.window.showInformationMessage(
      result.upToDate
        ? `VIN OCR: the PaddleOCR environment is already up to date (${build.build}).${note}`
        : `VIN OCR: PaddleOCR environment ready (${build.build}). PaddleOCR runs now use ${result.python}.${note}`,
    );
    return result.python;
  } catch (error) {
    const detail = error instanceof SetupError ? error.message : (error as Error).message;
    log.error(detail);
    const show = 'Show Log';
    if ((await vscode.window.showErrorMessage(`VIN OCR: PaddleOCR environment set-up failed: ${detail}`, show)) === show) log.show();
    return undefined;
  }
}
