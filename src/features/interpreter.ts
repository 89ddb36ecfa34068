// The one interpreter service: the hardware badge and panel, Train, tasks, Evaluate and Read VIN all
// ask it, so the Python the badge describes is the Python the trainer runs. It gathers what VS Code
// knows (the vinOcr.pythonPath setting, the Python extension's selection, the workspace folders,
// trust) and lets the core resolver (setting → Python extension → workspace .venv → PATH) decide.
import * as vscode from 'vscode';
import { resolveInterpreter, type ResolveInput, type ResolvedInterpreter } from '../core/interpreter/resolve';

const PYTHON_EXTENSION_ID = 'ms-python.python';
/**
 * The longest we wait for the Python extension to activate, once per window. Resolution runs after
 * our own activation (the first hardware probe, or a command), so this never delays activation.
 */
const PYTHON_EXTENSION_ACTIVATION_TIMEOUT_MS = 10_000;

/** The slice of the Python extension's public API we use (`environments` since 2023). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined | PromiseLike<{ path: string } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

export interface InterpreterResolution {
  /** What the resolution used: the setting's value (when set) shows whether it was skipped. */
  setting: string | undefined;
  resolved: ResolvedInterpreter | undefined;
}

export interface InterpreterService extends vscode.Disposable {
  /** The interpreter with the reason it was chosen; cached until an input changes. */
  resolve(): Promise<ResolvedInterpreter | undefined>;
  /** The interpreter path, or undefined (quietly). */
  find(): Promise<string | undefined>;
  /** The interpreter path, or undefined after telling the user how to get one. */
  require(purpose: string): Promise<string | undefined>;
  /** Fires when the setting, the Python extension's selection, the folders or workspace trust change. */
  readonly onDidChange: vscode.Event<void>;
  /** Fires after each fresh resolution (not for cached answers), for the logs. */
  readonly onDidResolve: vscode.Event<InterpreterResolution>;
}

/**
 * The vinOcr.pythonPath value this workspace may use (window scope: User, Remote or workspace). In an
 * untrusted workspace only the user's own value counts: a workspace must not be able to pick the
 * executable we run (the setting is also in restrictedConfigurations). Every reader of the setting
 * goes through here.
 */
export function readPythonPathSetting(): string | undefined {
  const configuration = vscode.workspace.getConfiguration('vinOcr');
  const value = vscode.workspace.isTrusted
    ? configuration.get<string>('pythonPath')
    : configuration.inspect<string>('pythonPath')?.globalValue;
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

/**
 * The Python extension's API. Activation is waited for at most once per window, with a bound; when
 * it finishes later, `onActivated` fires so that the interpreter is resolved again with its choice.
 */
class PythonExtensionLink implements vscode.Disposable {
  private activation: Promise<PythonExtensionApi | undefined> | undefined;
  private waitedOnce = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly onChanged: () => void) {}

  async api(): Promise<PythonExtensionApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!extension) return undefined;
    if (extension.isActive) return this.subscribe(extension.exports);
    if (!this.activation) {
      this.activation = Promise.resolve()
        .then(() => extension.activate())
        .then(
          (api) => this.subscribe(api),
          () => undefined,
        );
      // Finishing after we stopped waiting: resolve again, now with the Python extension's choice.
      void this.activation.then((api) => this.waitedOnce && api && this.onChanged());
    }
    if (this.waitedOnce) return undefined;
    const api = await withTimeout(this.activation, PYTHON_EXTENSION_ACTIVATION_TIMEOUT_MS);
    this.waitedOnce = true;
    return api;
  }

  private subscribe(api: PythonExtensionApi | undefined): PythonExtensionApi | undefined {
    const onChange = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (onChange && this.subscriptions.length === 0) this.subscriptions.push(onChange(() => this.onChanged()));
    return api;
  }

  /** The selected interpreter's path; an old or broken Python extension is the same as none. */
  async selection(): Promise<string | undefined> {
    try {
      const api = await this.api();
      const active = await api?.environments?.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
      return active?.path || undefined;
    } catch {
      return undefined;
    }
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/**
 * Resolved once and remembered while the inputs stay the same: a check per run would cost a Python
 * start each time, and on a loaded machine a slow check must not silently swap the configured
 * interpreter for another one between two runs. Nothing found is not remembered (the user may install one).
 */
export function createInterpreterService(): InterpreterService {
  const changed = new vscode.EventEmitter<void>();
  const resolvedEvent = new vscode.EventEmitter<InterpreterResolution>();
  const python = new PythonExtensionLink(() => changed.fire());
  let cached: { key: string; choice: Promise<ResolvedInterpreter | undefined> } | undefined;
  const disposables: vscode.Disposable[] = [
    changed,
    resolvedEvent,
    python,
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('vinOcr.pythonPath') && changed.fire()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
  ];

  async function inputs(): Promise<ResolveInput> {
    const trusted = vscode.workspace.isTrusted;
    return {
      setting: readPythonPathSetting(),
      // In an untrusted workspace neither the workspace's .venv nor a workspace-selected interpreter may run.
      pythonExtension: trusted ? await python.selection() : undefined,
      workspaceFolders: trusted ? (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath) : [],
      env: process.env,
    };
  }

  async function resolve(): Promise<ResolvedInterpreter | undefined> {
    const input = await inputs();
    const key = JSON.stringify([input.setting, input.pythonExtension, input.workspaceFolders, vscode.workspace.isTrusted]);
    if (cached?.key !== key) {
      const choice = resolveInterpreter(input).then((resolved) => {
        if (!resolved && cached?.key === key) cached = undefined;
        resolvedEvent.fire({ setting: input.setting, resolved });
        return resolved;
      });
      cached = { key, choice };
    }
    return cached.choice;
  }

  async function find(): Promise<string | undefined> {
    return (await resolve())?.path;
  }

  return {
    resolve,
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
    onDidChange: changed.event,
    onDidResolve: resolvedEvent.event,
    dispose() {
      for (const disposable of disposables) disposable.dispose();
    },
  };
}

/** Lets the user pick a Python executable and stores it in the user (not workspace) setting. */
export async function chooseInterpreter(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Use This Python',
    title: 'Python interpreter for the VIN OCR trainer',
  });
  if (!picked?.[0]) return;
  await vscode.workspace.getConfiguration('vinOcr').update('pythonPath', picked[0].fsPath, vscode.ConfigurationTarget.Global);
}
