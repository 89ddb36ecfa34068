// The window's view of the family environments (core/trainer/family-environments.ts): each family's interpreter from
// its setting (the user's own value, trusted workspaces only) or its managed environment, and the interpreter a
// trainer command runs with: DeepSeek-OCR's own environment for a deepseek-ocr config or checkpoint, the trainer's
// interpreter for everything else. A missing DeepSeek-OCR environment is said with its set-up command as a button,
// before anything starts.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import {
  missingEnvironmentAdvice,
  modelTypeOf,
  modelTypeOfCheckpoint,
  resolveFamilyPython,
  trainerEnvironmentOf,
  type FamilyEnvironment,
  type FamilyPython,
} from '../../core/trainer/family-environments';
import { parseConfigData } from '../../core/trainer/training-config';
import type { InterpreterService } from '../interpreter';
import { userLevelValue } from './paddle-setting';

/** The user's own value of the family's setting, never a workspace's; none in an untrusted workspace. */
export function userFamilyPythonPath(environment: FamilyEnvironment): string | undefined {
  return userLevelValue(vscode.workspace.getConfiguration().inspect<string>(environment.setting), vscode.workspace.isTrusted);
}

/** The family environment's interpreter: the setting, else the managed environment, else none. */
export function familyPythonFor(context: vscode.ExtensionContext, environment: FamilyEnvironment): FamilyPython | undefined {
  return resolveFamilyPython(environment, {
    settingPath: userFamilyPythonPath(environment),
    settingIsUserLevel: true,
    workspaceTrusted: vscode.workspace.isTrusted,
    storageDir: context.globalStorageUri.fsPath,
    exists: existsSync,
  });
}

/** The setting's value when it was passed over because nothing is at that path (for a warning in the log). */
export function ignoredFamilySetting(environment: FamilyEnvironment, resolved: FamilyPython | undefined): string | undefined {
  const setting = userFamilyPythonPath(environment);
  return setting && resolved?.source !== 'setting' ? setting : undefined;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A training config's `model.type` (the open editor's text when the file is open). */
export async function modelTypeOfConfig(configPath: string): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((document) => document.uri.fsPath === configPath);
  const text = open ? open.getText() : await readText(configPath);
  return text === undefined ? undefined : modelTypeOf(parseConfigData(text));
}

export function modelTypeOfCheckpointPath(checkpoint: string): Promise<string | undefined> {
  return modelTypeOfCheckpoint(checkpoint, readText);
}

/** Says that a family's environment is missing, with its set-up command as a button. */
export async function offerFamilySetUp(environment: FamilyEnvironment, what: string, arg?: vscode.Uri): Promise<void> {
  const setUp = environment.setUpTitle;
  const answer = await vscode.window.showErrorMessage(
    `VIN OCR: ${environment.label} runs in an environment of its own (to ${what}), and there is none yet. ` +
      missingEnvironmentAdvice(environment),
    setUp,
  );
  if (answer === setUp) await vscode.commands.executeCommand(environment.setUpCommand, arg);
}

/** What a trainer command needs to pick its interpreter. */
export interface TrainerPythonChooser {
  /** The interpreter for a model type, or undefined (and the user told why). `what` completes "to …". */
  forModelType(modelType: string | undefined, what: string, arg?: vscode.Uri): Promise<string | undefined>;
}

/**
 * `familyPython` answers a family environment's interpreter (the window's, which says a passed-over setting in the
 * log); a trainer family without one is told with its set-up command and gets no interpreter.
 */
export function createTrainerPythonChooser(
  interpreter: InterpreterService,
  familyPython: (environment: FamilyEnvironment) => string | undefined,
): TrainerPythonChooser {
  return {
    async forModelType(modelType, what, arg) {
      const environment = trainerEnvironmentOf(modelType);
      if (!environment) return interpreter.require(what);
      const own = familyPython(environment);
      if (!own) void offerFamilySetUp(environment, what, arg);
      return own;
    },
  };
}
