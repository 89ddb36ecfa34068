// The "Runs" tree: every run folder on disk (CLI runs and earlier windows included) merged with the
// live runs of this window. Status icon, duration and best metrics on each run; its checkpoints,
// log, config and TensorBoard folder below it.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { describeCloudRun } from '../../core/cloud/cloud-run';
import { compareMetricNames, EXACT_MATCH, formatMetric, HEADLINE_METRICS } from '../../core/trainer/metrics';
import { budgetProgress, budgetProgressText, stepCountText, type BudgetProgress } from '../../core/trainer/progress';
import type { LiveRun } from '../../core/trainer/run-manager';
import { fileNameOf, NOT_RUNS_GLOB, RUN_FILES, RUN_MARKER_FILES, RUN_MARKER_GLOB, runIdOf, runPaths } from '../../core/trainer/run-layout';
import { formatDuration, type RunState } from '../../core/trainer/run-state';
import { readRun, type StoredRun } from '../../core/trainer/run-store';
import type { TrainingController } from './controller';

export interface RunNode {
  kind: 'run';
  /** The folder on disk, or undefined for a live run the trainer has not named yet. */
  dir?: string;
  id: string;
  state: RunState;
  stored?: StoredRun;
  live?: LiveRun;
}

type ChildNode =
  | { kind: 'checkpoints'; run: RunNode }
  | { kind: 'checkpoint'; path: string; step?: number; best: boolean }
  | { kind: 'metrics'; run: RunNode }
  | { kind: 'metric'; name: string; value: number }
  | { kind: 'file'; label: string; path: string; contextValue: string; icon: string };

export type RunsTreeNode = RunNode | ChildNode;

const STATUS_ICONS: Record<RunState['status'], vscode.ThemeIcon> = {
  queued: new vscode.ThemeIcon('clock'),
  running: new vscode.ThemeIcon('sync~spin'),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
};

function duration(state: RunState): string | undefined {
  if (!state.startedAt) return undefined;
  const end = state.finishedAt ?? (state.status === 'running' ? Date.now() : undefined);
  return end ? formatDuration(end - state.startedAt) : undefined;
}

/** A running run's progress against its binding budget. */
function runningProgress(state: RunState): BudgetProgress | undefined {
  return state.status === 'running' ? budgetProgress(state) : undefined;
}

function description(node: RunNode): string {
  const state = node.state;
  const parts: string[] = [state.status];
  if (state.modelType) parts.push(state.modelType);
  const cloud = node.stored?.cloud;
  if (cloud) parts.push(`on ${cloud.target.id}`);
  // `42% · 4:12 of 10:00` for a time budget (its clock is the duration), `step 420/1000 · 42%` for steps.
  const progress = runningProgress(state);
  if (progress) parts.push(budgetProgressText(progress));
  const time = duration(state);
  if (time && progress?.budget !== 'time') parts.push(time);
  const exact = state.bestMetrics[EXACT_MATCH];
  if (exact !== undefined) parts.push(`exact ${formatMetric(EXACT_MATCH, exact)}`);
  return parts.join(' · ');
}

/** Steps with their total only where the step budget ends the run (a time-bound run's cap says little). */
function stepsText(state: RunState): string {
  return stepCountText({ step: state.step, totalSteps: state.totalSteps, budget: budgetProgress(state)?.budget }, ' / ');
}

function tooltip(node: RunNode): vscode.MarkdownString {
  const state = node.state;
  const markdown = new vscode.MarkdownString(undefined, true);
  markdown.appendMarkdown(`**${node.id}**: ${state.status}\n\n`);
  const rows: [string, string][] = [];
  if (state.configPath) rows.push(['config', state.configPath]);
  // A cloud run: cluster, instance, its state there and the cost so far (when SkyPilot gave a price).
  const cloud = node.stored?.cloud;
  if (cloud) rows.push(['cloud', describeCloudRun(cloud)]);
  if (cloud?.copyBack?.status === 'failed') rows.push(['copy-back', cloud.copyBack.message ?? 'failed']);
  if (state.device) rows.push(['device', `${state.device} · ${state.attention ?? '?'} · ${state.dtype ?? '?'}`]);
  rows.push(['steps', stepsText(state)]);
  const progress = runningProgress(state);
  if (progress) rows.push(['progress', budgetProgressText(progress)]);
  const time = duration(state);
  if (time) rows.push(['duration', time]);
  for (const name of HEADLINE_METRICS) {
    const value = state.bestMetrics[name];
    if (value !== undefined) rows.push([`best ${name}`, formatMetric(name, value)]);
  }
  if (state.errorCode) rows.push(['error', `${state.errorCode}: ${state.errorMessage ?? ''}`]);
  markdown.appendMarkdown('| | |\n|---|---|\n');
  // Values come from files on disk: escape them so they cannot inject markdown or links.
  for (const [key, value] of rows) markdown.appendMarkdown(`| ${key} | ${escapeMarkdown(value)} |\n`);
  return markdown;
}

/** Event paths may come from another OS than this one: a Windows drive path is absolute too. */
function isAbsolutePath(path: string): boolean {
  return isAbsolute(path) || path.startsWith('/') || /^[A-Za-z]:/.test(path);
}

/** Sizes and times of a run's marker files (and a cloud run's record): a folder is re-read only when one of them changed. */
async function markerSignature(dir: string): Promise<string> {
  const stamps = [...RUN_MARKER_FILES, RUN_FILES.cloud].map((name) =>
    stat(join(dir, name)).then(
      (info) => `${info.size}:${info.mtimeMs}`,
      () => '-',
    ),
  );
  return (await Promise.all(stamps)).join('|');
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (char) => `\\${char}`);
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private stored = new Map<string, StoredRun>();
  private readonly cache = new Map<string, { signature: string; run: StoredRun | undefined }>();
  private loaded = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly controller: TrainingController) {
    const watcher = vscode.workspace.createFileSystemWatcher(RUN_MARKER_GLOB);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.scheduleRefresh()),
      watcher.onDidChange(() => this.scheduleRefresh(2000)),
      watcher.onDidDelete(() => this.scheduleRefresh()),
      controller.onDidChangeRun((run) => (run.state.status === 'running' ? this.scheduleRefresh(1000) : this.scheduleRefresh(0))),
      this.changed,
    );
  }

  /** Coalesces bursts (a run writes events.jsonl many times a second) into one reload. */
  scheduleRefresh(delayMs = 300): void {
    if (this.refreshTimer) {
      if (delayMs > 0) return;
      clearTimeout(this.refreshTimer);
    }
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.reload();
    }, delayMs);
  }

  async reload(): Promise<void> {
    const dirs = new Set<string>();
    const files = await vscode.workspace.findFiles(RUN_MARKER_GLOB, NOT_RUNS_GLOB, 2000);
    for (const file of files) dirs.add(dirname(file.fsPath));
    for (const run of this.controller.manager.all) if (run.state.runDir) dirs.add(run.state.runDir);
    const runs = await Promise.all([...dirs].map((dir) => this.readCached(dir)));
    this.stored = new Map(runs.filter((run): run is StoredRun => run !== undefined).map((run) => [run.dir, run]));
    this.loaded = true;
    this.changed.fire(undefined);
  }

  /** Re-reads a run folder only when its events or metrics changed: a live run touches one folder, not all. */
  private async readCached(dir: string): Promise<StoredRun | undefined> {
    const signature = await markerSignature(dir);
    const cached = this.cache.get(dir);
    // A run without a final event turns from running to failed with time alone, so those are always re-read.
    if (cached && cached.signature === signature && cached.run?.status !== 'running') return cached.run;
    const run = await readRun(dir, runIdOf(dir));
    this.cache.set(dir, { signature, run });
    return run;
  }

  /** Live runs win over their folder on disk (they know the process is alive); the rest come from disk. */
  runs(): RunNode[] {
    const nodes = new Map<string, RunNode>();
    for (const stored of this.stored.values())
      nodes.set(stored.dir, { kind: 'run', dir: stored.dir, id: stored.id, state: stored, stored });
    for (const live of this.controller.manager.all) {
      const dir = live.state.runDir;
      const stored = dir ? this.stored.get(dir) : undefined;
      if (!dir && live.state.status !== 'queued' && live.state.status !== 'running') continue; // ended before naming a folder
      const id = dir ? runIdOf(dir) : `${live.request.label} (${live.state.status})`;
      const state =
        stored && live.state.status !== 'running' && live.state.status !== 'queued'
          ? { ...stored, status: live.state.status, errorCode: live.state.errorCode, errorMessage: live.state.errorMessage }
          : live.state;
      nodes.set(dir ?? `live:${live.key}`, { kind: 'run', dir, id, state, stored, live });
    }
    return [...nodes.values()].sort((a, b) => (b.state.startedAt ?? 0) - (a.state.startedAt ?? 0));
  }

  getTreeItem(node: RunsTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run': {
        const item = new vscode.TreeItem(
          node.id,
          node.dir ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `run:${node.dir ?? node.id}`;
        item.description = description(node);
        item.tooltip = tooltip(node);
        item.iconPath = STATUS_ICONS[node.state.status];
        // " cloud" lets cloud-only actions (tear down the cluster) show; the run-<status> prefix keeps every other one.
        item.contextValue = `run-${node.state.status}${node.stored?.cloud ? ' cloud' : ''}`;
        item.accessibilityInformation = { label: `Run ${node.id}, ${description(node)}` };
        return item;
      }
      case 'checkpoints': {
        const item = new vscode.TreeItem(`Checkpoints (${node.run.state.checkpoints.length})`, vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon('save-all');
        return item;
      }
      case 'checkpoint': {
        const name = fileNameOf(node.path);
        const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
        item.description = [node.best ? 'best' : undefined, node.step !== undefined ? `step ${node.step}` : undefined]
          .filter(Boolean)
          .join(' · ');
        item.iconPath = new vscode.ThemeIcon(node.best ? 'star-full' : 'package');
        item.contextValue = 'checkpoint';
        item.resourceUri = vscode.Uri.file(node.path);
        item.tooltip = node.path;
        return item;
      }
      case 'metrics': {
        const item = new vscode.TreeItem('Best metrics', vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon('graph-line');
        return item;
      }
      case 'metric': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
        item.description = formatMetric(node.name, node.value);
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.contextValue = node.contextValue;
        item.resourceUri = vscode.Uri.file(node.path);
        item.tooltip = node.path;
        if (node.contextValue !== 'tensorboard')
          item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(node.path)] };
        return item;
      }
    }
  }

  async getChildren(node?: RunsTreeNode): Promise<RunsTreeNode[]> {
    if (!node) {
      if (!this.loaded) await this.reload();
      return this.runs();
    }
    if (node.kind === 'run') {
      if (!node.dir) return [];
      const children: RunsTreeNode[] = [];
      const state = node.state;
      const paths = runPaths(node.dir);
      children.push({ kind: 'file', label: 'Config', path: paths.config, contextValue: 'config', icon: 'settings' });
      if (Object.keys(state.bestMetrics).length > 0) children.push({ kind: 'metrics', run: node });
      if (state.checkpoints.length > 0) children.push({ kind: 'checkpoints', run: node });
      children.push({ kind: 'file', label: 'Log', path: node.stored?.logFile ?? paths.log, contextValue: 'log', icon: 'output' });
      if (node.stored?.tensorboardDir)
        children.push({ kind: 'file', label: 'TensorBoard', path: node.stored.tensorboardDir, contextValue: 'tensorboard', icon: 'graph' });
      return children;
    }
    if (node.kind === 'checkpoints') {
      const dir = node.run.dir!;
      const best = node.run.state.bestCheckpoint;
      return node.run.state.checkpoints.map((checkpoint) => {
        const path = isAbsolutePath(checkpoint.path) ? checkpoint.path : join(dir, checkpoint.path);
        const isBest = best !== undefined && (best === checkpoint.path || path.endsWith(fileNameOf(best)));
        return { kind: 'checkpoint', path, step: checkpoint.step, best: isBest };
      });
    }
    if (node.kind === 'metrics') {
      return Object.entries(node.run.state.bestMetrics)
        .sort(([a], [b]) => compareMetricNames(a, b))
        .map(([name, value]) => ({ kind: 'metric', name, value }));
    }
    return [];
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}
