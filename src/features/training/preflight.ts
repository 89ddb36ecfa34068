// Before a run: which config, is it a training config, and does it validate.
// Validation results come from the config feature's diagnostics (the same problems the editor
// shows inline), so Train and the editor never disagree. Errors block with a link to the
// first problem; warnings ask.
import * as vscode from 'vscode';
import { isTrainingConfigData, parseConfigData } from '../../core/trainer/training-config';
import { DIAGNOSTIC_SOURCE } from '../config/convert';

const DIAGNOSTICS_WAIT_MS = 1500;
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
      void vscode.window.showErrorMessage(`VIN OCR: ${vscode.workspace.asRelativePath(candidate)} is not a training config (it needs a \`model.type\` and a \`training\` section).`);
      return undefined;
    }
  }
  const files = await vscode.workspace.findFiles('**/*.{yaml,yml}', '{**/node_modules/**,**/.venv/**,**/runs/**}', MAX_CONFIGS_SCANNED);
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
  const chosen = await vscode.window.showQuickPick(items, { title: 'VIN OCR: Train', placeHolder: 'Which training config?', matchOnDescription: true });
  return chosen?.config;
}

function describe(data: Record<string, unknown>): string {
  const model = data.model as { type?: unknown } | undefined;
  const training = data.training as { max_steps?: unknown } | undefined;
  return [typeof model?.type === 'string' ? model.type : undefined, typeof training?.max_steps === 'number' ? `${training.max_steps} steps` : undefined].filter(Boolean).join(' · ');
}

function activeYaml(): vscode.Uri | undefined {
  const document = vscode.window.activeTextEditor?.document;
  return document && /\.ya?ml$/i.test(document.uri.path) ? document.uri : undefined;
}

/** The validator's diagnostics for the file; opens it (in the background) so the config feature validates it. */
async function validatorDiagnostics(uri: vscode.Uri): Promise<vscode.Diagnostic[]> {
  const ours = () => vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === DIAGNOSTIC_SOURCE);
  await vscode.workspace.openTextDocument(uri);
  if (ours().length > 0) return ours();
  // A freshly opened document is validated asynchronously: wait briefly for its first result.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, DIAGNOSTICS_WAIT_MS);
    const listener = vscode.languages.onDidChangeDiagnostics((event) => {
      if (event.uris.some((changed) => changed.toString() === uri.toString())) done();
    });
    function done() {
      clearTimeout(timer);
      listener.dispose();
      resolve();
    }
  });
  return ours();
}

/** True when training may go ahead: no errors, and the user accepted any warnings. */
export async function confirmValid(uri: vscode.Uri): Promise<boolean> {
  const diagnostics = await validatorDiagnostics(uri);
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === vscode.DiagnosticSeverity.Error);
  const warnings = diagnostics.filter((diagnostic) => diagnostic.severity === vscode.DiagnosticSeverity.Warning);
  const name = vscode.workspace.asRelativePath(uri);
  if (errors.length > 0) {
    const first = errors[0]!;
    const show = 'Show Problem';
    const answer = await vscode.window.showErrorMessage(
      `VIN OCR: ${name} has ${errors.length} error${errors.length === 1 ? '' : 's'}; fix ${errors.length === 1 ? 'it' : 'them'} before training. Line ${first.range.start.line + 1}: ${first.message}`,
      show,
    );
    if (answer === show) await vscode.window.showTextDocument(uri, { selection: first.range });
    return false;
  }
  if (warnings.length > 0) {
    const train = 'Train Anyway';
    const show = 'Show Problems';
    const answer = await vscode.window.showWarningMessage(
      `VIN OCR: ${name} has ${warnings.length} warning${warnings.length === 1 ? '' : 's'}: ${warnings[0]!.message}`,
      { modal: false },
      train,
      show,
    );
    if (answer === show) {
      await vscode.window.showTextDocument(uri, { selection: warnings[0]!.range });
      return false;
    }
    return answer === train;
  }
  return true;
}
