// The commands on a run in the Runs tree: cancel, resume, retry, delete, open its folder, log,
// config or TensorBoard files, and show why it failed. Each takes the clicked node (or nothing,
// from the Command Palette) and does nothing for an argument that is not a run.
import * as vscode from 'vscode';
import type { LiveRun } from '../../core/trainer/run-manager';
import { runPaths } from '../../core/trainer/run-layout';
import type { TrainingController } from './controller';
import type { RetryChange } from './outcome';
import type { RunNode, RunsTreeProvider } from './runs-tree';

export function isRunNode(value: unknown): value is RunNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'run';
}

/** The file or folder of a run's child node (its log, TensorBoard folder or a checkpoint). */
function childPath(node: unknown): string | undefined {
  return (node as { path?: string } | undefined)?.path;
}

/** Without a node the controller asks which live run to cancel. */
export function cancelRun(node: unknown, controller: TrainingController): Promise<void> {
  return controller.cancel(isRunNode(node) ? node.live : undefined);
}

async function pickStoppedRun(tree: RunsTreeProvider): Promise<RunNode | undefined> {
  const runs = tree
    .runs()
    .filter(
      (run) =>
        run.dir &&
        (run.state.status === 'cancelled' || run.state.status === 'failed' || run.state.status === 'completed') &&
        run.state.checkpoints.length > 0,
    );
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('VIN OCR: no stopped run with a checkpoint to resume.');
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(
    runs.map((run) => ({ label: run.id, description: `${run.state.status} at step ${run.state.step}`, run })),
    { title: 'VIN OCR: resume which run?' },
  );
  return chosen?.run;
}

/** Resumes the clicked run, or one the user picks among the stopped runs with a checkpoint. */
export async function resumeRun(node: unknown, tree: RunsTreeProvider, controller: TrainingController): Promise<LiveRun | undefined> {
  const run = isRunNode(node) ? node : await pickStoppedRun(tree);
  if (run?.dir) return controller.resume(run.dir, runPaths(run.dir).config);
  return undefined;
}

export function retryRun(node: unknown, change: RetryChange, controller: TrainingController): Promise<LiveRun | undefined> | undefined {
  return isRunNode(node) && node.live ? controller.retry(node.live, change) : undefined;
}

/** Moves a stopped run's folder to the trash (deletes it where there is no trash), after asking. */
export async function deleteRun(node: unknown, tree: RunsTreeProvider): Promise<void> {
  if (!isRunNode(node) || !node.dir) return;
  if (node.state.status === 'running' || node.state.status === 'queued') {
    void vscode.window.showWarningMessage('VIN OCR: cancel the run before deleting it.');
    return;
  }
  const remove = 'Delete';
  const answer = await vscode.window.showWarningMessage(
    `Delete run ${node.id} with its checkpoints and logs?`,
    { modal: true, detail: node.dir },
    remove,
  );
  if (answer !== remove) return;
  await vscode.workspace.fs
    .delete(vscode.Uri.file(node.dir), { recursive: true, useTrash: true })
    .then(undefined, () => vscode.workspace.fs.delete(vscode.Uri.file(node.dir!), { recursive: true }));
  await tree.reload();
}

/** Reveals a run's folder (or a checkpoint) in the Explorer when it is in the workspace, else in the OS. */
export function openRunFolder(node: unknown): Thenable<unknown> | undefined {
  const path = isRunNode(node) ? node.dir : childPath(node);
  if (!path) return undefined;
  const uri = vscode.Uri.file(path);
  return vscode.workspace.getWorkspaceFolder(uri)
    ? vscode.commands.executeCommand('revealInExplorer', uri)
    : vscode.commands.executeCommand('revealFileInOS', uri);
}

export function openRunLog(node: unknown): Thenable<unknown> | undefined {
  const path = isRunNode(node) ? (node.stored?.logFile ?? (node.dir ? runPaths(node.dir).log : undefined)) : childPath(node);
  return path ? vscode.window.showTextDocument(vscode.Uri.file(path)) : undefined;
}

export function openRunConfig(node: unknown): Thenable<unknown> | undefined {
  return isRunNode(node) && node.dir ? vscode.window.showTextDocument(vscode.Uri.file(runPaths(node.dir).config)) : undefined;
}

/** Reveals the run's TensorBoard files and offers the `tensorboard --logdir` command line. */
export async function openRunTensorBoard(node: unknown): Promise<void> {
  const folder = isRunNode(node) ? node.stored?.tensorboardDir : childPath(node);
  if (!folder) {
    void vscode.window.showInformationMessage('VIN OCR: this run has no TensorBoard files.');
    return;
  }
  await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(folder)).then(undefined, () => undefined);
  const copy = 'Copy TensorBoard Command';
  if ((await vscode.window.showInformationMessage(`TensorBoard files: ${folder}`, copy)) === copy)
    await vscode.env.clipboard.writeText(`tensorboard --logdir "${folder}"`);
}

export function showRunFailure(node: unknown): void {
  if (!isRunNode(node)) return;
  const state = node.state;
  const code = state.errorCode ? ` (${state.errorCode})` : '';
  const hint = state.hint ? ` ${state.hint}` : '';
  void vscode.window.showErrorMessage(`Run ${node.id} failed${code}: ${state.errorMessage ?? 'no message'}${hint}`);
}
