// Before a run: which config, is it a training config, and does it validate.
// Validation is the config feature's own core function with the editor's options, so Train and the
// problems shown inline never disagree. Errors block with a link to the first problem; warnings ask.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Problem } from '../../core/config/problem';
import { validateText } from '../../core/config/validate';
import type { HardwareFacts } from '../../core/hardware/types';
import { NOT_CONFIGS_GLOB } from '../../core/trainer/run-layout';
import { isTrainingConfigData, parseConfigData } from '../../core/trainer/training-config';
import { readConfigSettings } from '../config/settings';

const MAX_CONFIGS_SCANNED = 200;

export interface PickedConfig {
  uri: vscode.Uri;
  data: Record<string, unknown>;
}

async function readConfig(uri: vscode.Uri): Promise<Record<string, unknown> | undefined> {
  try {
    const bytes = await vscode.workspace.fs.readFile(uri);
    if (bytes.byteLength > 512 * 1024) return undefined;
    return parseConfigData(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** The active editor's config when it is a training config, else a quick pick of the workspace's. */
export async function pickTrainingConfig(explicit?: vscode.Uri): Promise<PickedConfig | undefined> {
  const candidate = explicit ?? activeYaml();
  if (candidate) {
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === candidate.toString());
    if (document?.isDirty) await document.save();
    const data = document ? parseConfigData(document.getText()) : await readConfig(candidate);
    if (isTrainingConfigData(data)) return { uri: candidate, data: data! };
    if (explicit) {
      void vscode.window.showErrorMessage(
        `VIN OCR: ${vscode.workspace.asRelativePath(candidate)} is not a training config ` +
          '(it needs a `model.type` and a `training` section).',
      );
      return undefined;
    }
  }
  const files = await vscode.workspace.findFiles('**/*.{yaml,yml}', NOT_CONFIGS_GLOB, MAX_CONFIGS_SCANNED);
  const configs: PickedConfig[] = [];
  for (const uri of files) {
    const data = await readConfig(uri);
    if (isTrainingConfigData(data)) configs.push({ uri, data: data! });
  }
  if (configs.length === 0) {
    const example = 'Open Example Config';
    const answer = await vscode.window.showInformationMessage('VIN OCR: no training config in this workspace.', example);
    if (answer === example) void vscode.commands.executeCommand('vinOcr.trainOpenExample');
    return undefined;
  }
  if (configs.length === 1) return configs[0];
  const items = configs
    .map((config) => ({ label: vscode.workspace.asRelativePath(config.uri), description: describe(config.data), config }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'VIN OCR: Train',
    placeHolder: 'Which training config?',
    matchOnDescription: true,
  });
  return chosen?.config;
}

function describe(data: Record<string, unknown>): string {
  const model = data.model as { type?: unknown } | undefined;
  const training = data.training as { max_steps?: unknown } | undefined;
  return [
    typeof model?.type === 'string' ? model.type : undefined,
    typeof training?.max_steps === 'number' ? `${training.max_steps} steps` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
}

function activeYaml(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document && /\.ya?ml$/i.test(document.uri.path) ? document.uri : undefined;
}

/** The config validator's problems for the file: the same function and options the editor's diagnostics use. */
async function validationProblems(uri: vscode.Uri, facts: HardwareFacts | undefined): Promise<Problem[]> {
  const document = await vscode.workspace.openTextDocument(uri);
  const settings = readConfigSettings(uri);
  return validateText(document.getText(), {
    file: uri.fsPath,
    patterns: settings.patterns,
    facts: settings.checkHardware ? facts : undefined,
    workspaceRoot: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath,
    fileExists: existsSync,
  });
}

function rangeOf(problem: Problem): vscode.Range {
  return new vscode.Range(problem.line - 1, Math.max(0, problem.column - 1), problem.endLine - 1, Math.max(0, problem.endColumn - 1));
}

/** True when training may go ahead: no errors, and the user accepted any warnings. */
export async function confirmValid(uri: vscode.Uri, facts: HardwareFacts | undefined): Promise<boolean> {
  const problems = await validationProblems(uri, facts);
  const errors = problems.filter((problem) => problem.severity === 'error');
  const warnings = problems.filter((problem) => problem.severity === 'warning');
  const name = vscode.workspace.asRelativePath(uri);
  if (errors.length > 0) {
    const first = errors[0]!;
    const show = 'Show Problem';
    // Not awaited: Train has its answer (no), the button works whenever it is clicked.
    void vscode.window
      .showErrorMessage(
        `VIN OCR: ${name} has ${errors.length} error${errors.length === 1 ? '' : 's'}; ` +
          `fix ${errors.length === 1 ? 'it' : 'them'} before training. Line ${first.line}: ${first.message}`,
        show,
      )
      .then((answer) => (answer === show ? vscode.window.showTextDocument(uri, { selection: rangeOf(first) }) : undefined));
    return false;
  }
  if (warnings.length > 0) {
    const train = 'Train Anyway';
    const show = 'Show Problems';
    const answer = await vscode.window.showWarningMessage(
      `VIN OCR: ${name} has ${warnings.length} warning${warnings.length === 1 ? '' : 's'}: ${warnings[0]!.message}`,
      train,
      show,
    );
    if (answer === show) {
      await vscode.window.showTextDocument(uri, { selection: rangeOf(warnings[0]!) });
      return false;
    }
    return answer === train;
  }
  return true;
}
