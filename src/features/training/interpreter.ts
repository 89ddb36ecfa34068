// The interpreter that runs the trainer: the shared core resolution (setting → Python extension →
// workspace .venv → PATH). In an untrusted workspace only the user's own setting counts and neither
// the workspace's .venv nor its Python-extension selection may run.
import * as vscode from 'vscode';
import { resolveInterpreter, type ResolvedInterpreter } from '../../core/interpreter/resolve';
import type { TrainingLog } from './log';

export interface TrainerInterpreter extends vscode.Disposable {
  /** The interpreter path, or undefined (quietly). */
  find(): Promise<string | undefined>;
  /** The interpreter path, or undefined after telling the user how to get one. */
  require(purpose: string): Promise<string | undefined>;
}

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined };
}

function pythonPathSetting(): string | undefined {
  const configuration = vscode.workspace.getConfiguration('vinOcr');
  const value = vscode.workspace.isTrusted ? configuration.get<string>('pythonPath') : configuration.inspect<string>('pythonPath')?.globalValue;
  return value?.trim() || undefined;
}

/** The Python extension's choice, only when it is already active: training never waits for it to start. */
function pythonExtensionChoice(): string | undefined {
  try {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
    if (!extension?.isActive) return undefined;
    return extension.exports?.environments?.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri)?.path || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolved once and remembered until the setting, the trust or the folders change: a check per run
 * would cost a Python start each time, and on a loaded machine a slow check must not silently swap
 * the configured interpreter for another one between two runs.
 */
export function createTrainerInterpreter(log: TrainingLog): TrainerInterpreter {
  let cached: { key: string; choice: Promise<ResolvedInterpreter | undefined> } | undefined;
  const forget = () => (cached = undefined);
  const subscriptions = [
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('vinOcr.pythonPath') && forget()),
    vscode.workspace.onDidGrantWorkspaceTrust(forget),
    vscode.workspace.onDidChangeWorkspaceFolders(forget),
  ];

  async function find(): Promise<string | undefined> {
    const trusted = vscode.workspace.isTrusted;
    const input = {
      setting: pythonPathSetting(),
      pythonExtension: trusted ? pythonExtensionChoice() : undefined,
      workspaceFolders: trusted ? (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath) : [],
      env: process.env,
    };
    const key = JSON.stringify([input.setting, input.pythonExtension, input.workspaceFolders, trusted]);
    if (cached?.key !== key) {
      const choice = resolveInterpreter(input).then((resolved) => {
        if (resolved) log.info(`trainer interpreter: ${resolved.reason}`);
        if (resolved && input.setting && resolved.source !== 'setting') log.warn(`vinOcr.pythonPath "${input.setting}" did not answer as Python; using ${resolved.path} instead.`);
        if (!resolved) forget(); // nothing found: look again next time (the user may install one)
        return resolved;
      });
      cached = { key, choice };
    }
    return (await cached.choice)?.path;
  }
  return {
    find,
    async require(purpose) {
      const found = await find();
      if (found) return found;
      const setUp = 'Set Up Trainer Environment';
      const pick = 'Choose Interpreter…';
      const answer = await vscode.window.showErrorMessage(`VIN OCR: no Python 3.9+ interpreter found to ${purpose}.`, setUp, pick);
      if (answer === setUp) void vscode.commands.executeCommand('vinOcr.setUpEnvironment');
      if (answer === pick) await chooseInterpreter();
      return undefined;
    },
    dispose() {
      for (const subscription of subscriptions) subscription.dispose();
    },
  };
}

/** Lets the user pick a Python executable and stores it in the user (not workspace) setting. */
export async function chooseInterpreter(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use This Python', title: 'Python interpreter for the VIN OCR trainer' });
  if (!picked?.[0]) return;
  await vscode.workspace.getConfiguration('vinOcr').update('pythonPath', picked[0].fsPath, vscode.ConfigurationTarget.Global);
}
