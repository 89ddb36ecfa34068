// The "Configs" tree in the VIN OCR container: every config in the workspace with its error and
// warning counts; expanding one lists its problems, and clicking a problem jumps to it.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { KIND_LABELS } from '../../core/config/kinds';
import { MAX_TEXT_LENGTH } from '../../core/config/limits';
import type { Problem } from '../../core/config/problem';
import { detectKind, oversizedFileProblem, validateBytes } from '../../core/config/validate';
import type { HardwareState } from '../hardware/state';
import { toRange } from './convert';
import type { ConfigDiagnostics } from './diagnostics';
import { readConfigSettings } from './settings';

const EXCLUDE = '**/{node_modules,.git,.venv,venv,dist,out,runs,outputs,__pycache__}/**';
const MAX_FILES = 500;
const REFRESH_DELAY_MS = 400;

interface ConfigEntry {
  uri: vscode.Uri;
  kind: string;
  problems: Problem[];
}

type Node =
  { type: 'config'; entry: ConfigEntry } | { type: 'problem'; entry: ConfigEntry; problem: Problem } | { type: 'empty'; message: string };

export class ConfigsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private entries: Promise<ConfigEntry[]> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly diagnostics: ConfigDiagnostics,
    private readonly hardware: HardwareState,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{yaml,yml}');
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.scheduleRefresh()),
      watcher.onDidDelete(() => this.scheduleRefresh()),
      watcher.onDidChange(() => this.scheduleRefresh()),
      diagnostics.onDidChange(() => this.scheduleRefresh()),
      hardware.onDidChange(() => this.scheduleRefresh()),
    );
  }

  refresh(): void {
    this.entries = undefined;
    this.changed.fire(undefined);
  }

  /** Typing fires many changes; the tree catches up once things settle. */
  private scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_DELAY_MS);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node?.type === 'config') return node.entry.problems.map((problem) => ({ type: 'problem', entry: node.entry, problem }));
    if (node) return [];
    this.entries ??= this.collect();
    const entries = await this.entries;
    if (entries.length === 0) return [{ type: 'empty', message: 'No model profiles, trainer configs or training configs found.' }];
    return entries.map((entry) => ({ type: 'config', entry }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.type === 'empty') return new vscode.TreeItem(node.message);
    if (node.type === 'problem') return problemItem(node.entry, node.problem);
    return configItem(node.entry);
  }

  /** Finds every config in the workspace; open documents answer from their live diagnostics. */
  private async collect(): Promise<ConfigEntry[]> {
    const files = await vscode.workspace.findFiles('**/*.{yaml,yml}', EXCLUDE, MAX_FILES);
    const entries = await Promise.all(files.map((uri) => this.entryFor(uri)));
    return entries
      .filter((entry): entry is ConfigEntry => entry !== undefined)
      .sort((a, b) => vscode.workspace.asRelativePath(a.uri).localeCompare(vscode.workspace.asRelativePath(b.uri)));
  }

  private async entryFor(uri: vscode.Uri): Promise<ConfigEntry | undefined> {
    try {
      const settings = readConfigSettings(uri);
      if (!settings.enabled) return undefined;
      const info = await stat(uri.fsPath);
      if (info.size > MAX_TEXT_LENGTH * 4) return undefined;
      const bytes = await readFile(uri.fsPath);
      const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString());
      const text = open?.getText() ?? new TextDecoder().decode(bytes);
      const kind = detectKind(text, uri.fsPath, { patterns: settings.patterns });
      if (!kind) return undefined;
      const problems = open
        ? [...this.diagnostics.problemsFor(uri)]
        : info.size > MAX_TEXT_LENGTH
          ? [oversizedFileProblem(uri.fsPath, info.size)]
          : validateBytes(bytes, {
              file: uri.fsPath,
              patterns: settings.patterns,
              facts: settings.checkHardware ? this.hardware.current?.facts : undefined,
              workspaceRoot: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath,
              fileExists: existsSync,
            });
      return { uri, kind: KIND_LABELS[kind], problems };
    } catch {
      return undefined; // deleted while we looked, or unreadable: not worth a tree entry
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}

function counts(problems: Problem[]): { errors: number; warnings: number } {
  return {
    errors: problems.filter((problem) => problem.severity === 'error').length,
    warnings: problems.filter((problem) => problem.severity === 'warning').length,
  };
}

function configItem(entry: ConfigEntry): vscode.TreeItem {
  const { errors, warnings } = counts(entry.problems);
  const item = new vscode.TreeItem(
    path.basename(entry.uri.fsPath),
    entry.problems.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  const summary =
    errors || warnings
      ? [errors ? `${errors} error${errors === 1 ? '' : 's'}` : '', warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '']
          .filter(Boolean)
          .join(', ')
      : 'no problems';
  item.description = `${path.dirname(vscode.workspace.asRelativePath(entry.uri))} · ${summary}`;
  item.tooltip = `${vscode.workspace.asRelativePath(entry.uri)} (${entry.kind}): ${summary}`;
  item.iconPath = new vscode.ThemeIcon(errors ? 'error' : warnings ? 'warning' : 'pass');
  item.resourceUri = entry.uri;
  item.contextValue = errors ? 'config-errors' : warnings ? 'config-warnings' : 'config-clean';
  item.command = { command: 'vscode.open', title: 'Open', arguments: [entry.uri] };
  item.accessibilityInformation = { label: `${path.basename(entry.uri.fsPath)}, ${entry.kind}, ${summary}` };
  return item;
}

function problemItem(entry: ConfigEntry, problem: Problem): vscode.TreeItem {
  const item = new vscode.TreeItem(problem.message);
  item.description = `${problem.code} · line ${problem.line}`;
  item.iconPath = new vscode.ThemeIcon(problem.severity === 'error' ? 'error' : problem.severity === 'warning' ? 'warning' : 'info');
  item.command = { command: 'vscode.open', title: 'Go to problem', arguments: [entry.uri, { selection: toRange(problem) }] };
  item.contextValue = 'config-problem';
  return item;
}
