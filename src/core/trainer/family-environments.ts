// Model families that need an environment of their own, in one table: PaddleOCR (PaddlePaddle stays out of the torch
// environment; the trainer runs in its usual environment and hands PaddleOCR's interpreter to its child) and
// DeepSeek-OCR (its remote code imports only with transformers 4.46.x–4.47.x, so the whole trainer runs with that
// environment's interpreter). Where each lives, which setting names it, how the CLI is told, and how it is set up,
// so the editor, the CLI and the doctor find them one way.

import { dirname, join } from 'node:path';
import type { HardwareFacts } from '../hardware/types';
import { venvPython } from './environment';
import { LOCAL_PADDLE_ENVIRONMENT, PADDLE_ENVIRONMENT, PADDLE_PYTHON_ENV } from './paddleocr';
import { CHECKPOINT_FOLDERS, CHECKPOINT_SUMMARY_FILE, RUN_FILES, runPaths } from './run-layout';
import { parseCheckpointSummary } from './trainer-args';
import { parseConfigData } from './training-config';

/** The config's `model.type` of each family with an environment of its own. */
export type FamilyEnvironmentId = 'paddleocr' | 'deepseek-ocr';

/**
 * `child`: the trainer runs in its usual environment and hands this interpreter to the program it starts (in
 * `childVariable`). `trainer`: the trainer itself runs with this interpreter.
 */
export type FamilyEnvironmentRole = 'child' | 'trainer';

export interface FamilyEnvironment {
  id: FamilyEnvironmentId;
  /** What messages call the family ("DeepSeek-OCR"). */
  label: string;
  role: FamilyEnvironmentRole;
  /** The managed environment under the extension's (or the CLI's) storage folder. */
  storageFolder: string;
  /** The environment its setup script creates in the working folder, which `vin-ocr train` finds. */
  localFolder: string;
  /** The setting (machine scope, user value only, trusted workspaces only) that names its interpreter. */
  setting: string;
  /** The command that creates the managed environment, and its title. */
  setUpCommand: string;
  setUpTitle: string;
  /** The repository script that creates `localFolder`. */
  setUpScript: string;
  /** `vin-ocr train`'s flag for the interpreter. */
  cliFlag: string;
  /** For a `child` environment: the variable that hands the trainer the interpreter. */
  childVariable?: string;
}

export const PADDLE_ENVIRONMENT_INFO: FamilyEnvironment = {
  id: 'paddleocr',
  label: 'PaddleOCR',
  role: 'child',
  storageFolder: PADDLE_ENVIRONMENT,
  localFolder: LOCAL_PADDLE_ENVIRONMENT,
  setting: 'vinOcr.paddleocr.pythonPath',
  setUpCommand: 'vinOcr.setUpPaddleEnvironment',
  setUpTitle: 'Set Up PaddleOCR Environment',
  setUpScript: 'scripts/setup-paddle.sh',
  cliFlag: '--paddle-python',
  childVariable: PADDLE_PYTHON_ENV,
};

export const DEEPSEEK_ENVIRONMENT_INFO: FamilyEnvironment = {
  id: 'deepseek-ocr',
  label: 'DeepSeek-OCR',
  role: 'trainer',
  storageFolder: 'deepseek-venv',
  localFolder: '.deepseek-venv',
  setting: 'vinOcr.deepseekOcr.pythonPath',
  setUpCommand: 'vinOcr.setUpDeepSeekEnvironment',
  setUpTitle: 'Set Up DeepSeek-OCR Environment',
  setUpScript: 'scripts/setup-deepseek.sh',
  cliFlag: '--deepseek-python',
};

export const FAMILY_ENVIRONMENTS: Readonly<Record<FamilyEnvironmentId, FamilyEnvironment>> = {
  paddleocr: PADDLE_ENVIRONMENT_INFO,
  'deepseek-ocr': DEEPSEEK_ENVIRONMENT_INFO,
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A config's `model.type`, when it names one. */
export function modelTypeOf(data: unknown): string | undefined {
  const type = isRecord(data) && isRecord(data.model) ? data.model.type : undefined;
  return typeof type === 'string' && type ? type : undefined;
}

/** The environment of its own a model family trains in, when it has one. */
export function familyEnvironmentOf(modelType: string | undefined): FamilyEnvironment | undefined {
  return modelType !== undefined && Object.hasOwn(FAMILY_ENVIRONMENTS, modelType)
    ? FAMILY_ENVIRONMENTS[modelType as FamilyEnvironmentId]
    : undefined;
}

/** The family's environment when the trainer itself must run in it (DeepSeek-OCR), else undefined. */
export function trainerEnvironmentOf(modelType: string | undefined): FamilyEnvironment | undefined {
  const environment = familyEnvironmentOf(modelType);
  return environment?.role === 'trainer' ? environment : undefined;
}

export function familyVenvDir(storageDir: string, environment: FamilyEnvironment): string {
  return join(storageDir, environment.storageFolder);
}

export type FamilyPythonSource = 'setting' | 'managed-environment';

export interface FamilyPython {
  path: string;
  source: FamilyPythonSource;
}

export interface ResolveFamilyPythonInput {
  /** The family's setting's value (`vinOcr.paddleocr.pythonPath`, `vinOcr.deepseekOcr.pythonPath`). */
  settingPath?: string;
  /** The setting comes from the user's own settings (not a workspace's). */
  settingIsUserLevel?: boolean;
  workspaceTrusted?: boolean;
  /** Where the managed environment lives: `<storageDir>/<storageFolder>`. */
  storageDir?: string;
  os?: NodeJS.Platform | HardwareFacts['os'];
  exists: (path: string) => boolean;
}

/**
 * A family environment's interpreter: the setting (only a user-level value in a trusted workspace: a workspace must
 * never choose the program we run), else the managed environment when it exists, else none.
 */
export function resolveFamilyPython(environment: FamilyEnvironment, input: ResolveFamilyPythonInput): FamilyPython | undefined {
  const setting = input.settingPath?.trim();
  if (setting && input.workspaceTrusted && input.settingIsUserLevel && input.exists(setting)) return { path: setting, source: 'setting' };
  if (input.storageDir) {
    const managed = venvPython(familyVenvDir(input.storageDir, environment), input.os ?? process.platform);
    if (input.exists(managed)) return { path: managed, source: 'managed-environment' };
  }
  return undefined;
}

/** What to do when a family's environment is missing, for messages: the command, the script, the setting. */
export function missingEnvironmentAdvice(environment: FamilyEnvironment): string {
  return (
    `Run "VIN OCR: ${environment.setUpTitle}" (or ${environment.setUpScript}, which creates ${environment.localFolder}), ` +
    `or set ${environment.setting} to its Python.`
  );
}

/**
 * The model type of what `evaluate`/`predict` is pointed at, so it runs with the family's interpreter: a checkpoint
 * folder's summary, a run folder's best or last checkpoint summary, else the run's resolved config (a run folder, or
 * the run above a checkpoint folder). Undefined for a baseline `.pt`, a bare adapter or anything unreadable.
 * `readText` answers undefined for a file that is absent or unreadable.
 */
export async function modelTypeOfCheckpoint(
  checkpoint: string,
  readText: (file: string) => Promise<string | undefined>,
): Promise<string | undefined> {
  const checkpoints = join(checkpoint, RUN_FILES.checkpoints);
  const summaries = [
    join(checkpoint, CHECKPOINT_SUMMARY_FILE),
    join(checkpoints, CHECKPOINT_FOLDERS.best, CHECKPOINT_SUMMARY_FILE),
    join(checkpoints, CHECKPOINT_FOLDERS.last, CHECKPOINT_SUMMARY_FILE),
  ];
  for (const file of summaries) {
    const text = await readText(file);
    const family = text === undefined ? undefined : parseCheckpointSummary(text).family;
    if (family) return family;
  }
  for (const runDir of [checkpoint, dirname(dirname(checkpoint))]) {
    const text = await readText(runPaths(runDir).config);
    const type = text === undefined ? undefined : modelTypeOf(parseConfigData(text));
    if (type) return type;
  }
  return undefined;
}
