// Live diagnostics for open config files: validated on open, on change (debounced), when settings
// change and when the detected hardware changes. Keeps the core problems so quick fixes can use them.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Problem } from '../../core/config/problem';
import { detectKind, validateText } from '../../core/config/validate';
import type { HardwareState } from '../hardware/state';
import { toDiagnostic } from './convert';
import { readConfigSettings } from './settings';

const DEBOUNCE_MS = 250;

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('vin-ocr');
  private readonly problems = new Map<string, Problem[]>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Fires after a document's problems were replaced (the Configs tree listens). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly hardware: HardwareState,
    private readonly explain: (code: string) => vscode.Uri,
  ) {
    this.disposables.push(
      this.collection,
      this.changed,
      vscode.workspace.onDidOpenTextDocument((document) => this.validate(document)),
      vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri)),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('vinOcr.configs')) this.validateAll();
      }),
      hardware.onDidChange(() => this.validateAll()),
    );
    this.validateAll();
  }

  /** The core problems behind the diagnostics of a document (for code actions). */
  problemsFor(uri: vscode.Uri): readonly Problem[] {
    return this.problems.get(uri.toString()) ?? [];
  }

  validateAll(): void {
    for (const document of vscode.workspace.textDocuments) this.validate(document);
  }

  validate(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    this.timers.delete(key);
    const problems = this.check(document);
    if (problems === undefined) {
      if (this.problems.has(key)) this.forget(document.uri);
      return;
    }
    this.problems.set(key, problems);
    this.collection.set(
      document.uri,
      problems.map((problem) => toDiagnostic(problem, this.explain)),
    );
    this.changed.fire(document.uri);
  }

  /** Undefined when the document is no config this extension checks. */
  private check(document: vscode.TextDocument): Problem[] | undefined {
    if (document.languageId !== 'yaml' || (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled')) return undefined;
    const settings = readConfigSettings(document.uri);
    if (!settings.enabled) return undefined;
    const text = document.getText();
    const file = document.uri.scheme === 'file' ? document.uri.fsPath : document.uri.path;
    if (!detectKind(text, file, { patterns: settings.patterns })) return undefined;
    return validateText(text, {
      file,
      patterns: settings.patterns,
      facts: settings.checkHardware ? this.hardware.current?.facts : undefined,
      workspaceRoot: vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath,
      fileExists: document.uri.scheme === 'file' ? existsSync : undefined,
    });
  }

  private schedule(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    this.timers.set(
      key,
      setTimeout(() => this.validate(document), DEBOUNCE_MS),
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    this.timers.delete(key);
    this.problems.delete(key);
    this.collection.delete(uri);
    this.changed.fire(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
