// VS Code half of interpreter resolution: gathers the user's setting and the Python extension's
// active interpreter, then lets the core resolver (setting → Python extension → workspace .venv → PATH) decide.
import * as vscode from 'vscode';
import { resolveInterpreter } from '../core/interpreter/resolve';
import type { InterpreterChoice } from './hardware/state';

const PYTHON_EXTENSION_ID = 'ms-python.python';
const PYTHON_EXTENSION_ACTIVATION_TIMEOUT_MS = 10_000;

/** The slice of the Python extension's public API we use (`environments` since 2023). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string } | undefined | PromiseLike<{ path: string } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

export interface InterpreterSource extends vscode.Disposable {
  /** Resolves the interpreter now (cheap: no probe runs here). */
  resolve(): Promise<InterpreterChoice | undefined>;
  /** Fires when the setting, the Python extension's selection or workspace trust changes. */
  readonly onDidChange: vscode.Event<void>;
}

/**
 * The setting as this workspace may use it. In an untrusted workspace only the user's own value counts:
 * a workspace must not be able to pick the executable we run (the setting is also in restrictedConfigurations).
 */
function pythonPathSetting(): string | undefined {
  const inspected = vscode.workspace.getConfiguration('vinOcr').inspect<string>('pythonPath');
  const value = vscode.workspace.isTrusted
    ? vscode.workspace.getConfiguration('vinOcr').get<string>('pythonPath')
    : inspected?.globalValue;
  return value?.trim() || undefined;
}

function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

export function createInterpreterSource(): InterpreterSource {
  const changed = new vscode.EventEmitter<void>();
  const disposables: vscode.Disposable[] = [changed];
  let subscribedToPython = false;

  async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!extension) return undefined;
    // Activating the Python extension can take seconds; this runs after our own activation, in the background.
    const api = extension.isActive ? extension.exports : await withTimeout(extension.activate(), PYTHON_EXTENSION_ACTIVATION_TIMEOUT_MS);
    if (api?.environments?.onDidChangeActiveEnvironmentPath && !subscribedToPython) {
      subscribedToPython = true;
      disposables.push(api.environments.onDidChangeActiveEnvironmentPath(() => changed.fire()));
    }
    return api;
  }

  async function pythonExtensionInterpreter(): Promise<string | undefined> {
    try {
      const api = await pythonExtensionApi();
      const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
      const active = await api?.environments?.getActiveEnvironmentPath(resource);
      return active?.path || undefined;
    } catch {
      return undefined; // an old or broken Python extension is the same as none
    }
  }

  disposables.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('vinOcr.pythonPath')) changed.fire();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
  );

  return {
    onDidChange: changed.event,
    async resolve() {
      const trusted = vscode.workspace.isTrusted;
      return resolveInterpreter({
        setting: pythonPathSetting(),
        // In an untrusted workspace neither the workspace's .venv nor a workspace-selected interpreter may run.
        pythonExtension: trusted ? await pythonExtensionInterpreter() : undefined,
        workspaceFolders: trusted ? (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath) : [],
        env: process.env,
      });
    },
    dispose() {
      for (const disposable of disposables) disposable.dispose();
    },
  };
}
