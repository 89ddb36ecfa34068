// Training features: Train/Cancel/Resume commands, the "VIN OCR Training" log, progress
// notification and status bar, the Runs tree, the Training view, tasks, CodeLens, environment
// set-up and the checkpoint commands. Everything registered here is disposed with the extension;
// disposing stops every trainer (SIGTERM to each process group at once, so nothing outlives the window).
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HardwareState } from '../hardware/state';
import { evaluateCheckpoint, readVin } from './checkpoint-commands';
import { compareRuns } from './compare';
import { registerConfigLens } from './config-lens';
import { TrainingController } from './controller';
import { setUpEnvironment } from './environment-command';
import { chooseInterpreter, createTrainerInterpreter } from './interpreter';
import { createTrainingLog } from './log';
import type { RetryChange } from './outcome';
import { confirmValid, pickTrainingConfig } from './preflight';
import { RunsTreeProvider, type RunNode } from './runs-tree';
import { createTaskProvider } from './tasks';
import { TRAINING_VIEW_ID, TrainingViewProvider } from './training-view';
import { requireTrust } from './trust';

let activeController: TrainingController | undefined;

/** For deactivate(): resolves once every trainer process tree is gone. */
export async function shutdownTraining(): Promise<void> {
  await activeController?.shutdown();
}

function isRunNode(value: unknown): value is RunNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'run';
}

export function registerTrainingFeatures(context: vscode.ExtensionContext, hardware: HardwareState): TrainingController {
  const log = createTrainingLog();
  const interpreter = createTrainerInterpreter(log);
  const trainerDir = vscode.Uri.joinPath(context.extensionUri, 'trainer').fsPath;
  const controller = new TrainingController(context, log, interpreter);
  activeController = controller;
  const tree = new RunsTreeProvider(controller);
  const view = new TrainingViewProvider(context.extensionUri, controller);

  async function train(uri?: vscode.Uri): Promise<unknown> {
    if (!requireTrust('Training')) return undefined; // before any picking: nothing here may run untrusted
    const config = await pickTrainingConfig(uri instanceof vscode.Uri ? uri : undefined);
    if (!config) return undefined;
    if (!(await confirmValid(config.uri, hardware.current?.facts))) return undefined;
    return controller.start({ configPath: config.uri.fsPath });
  }

  async function pickStoppedRun(): Promise<RunNode | undefined> {
    const runs = tree.runs().filter((run) => run.dir && (run.state.status === 'cancelled' || run.state.status === 'failed' || run.state.status === 'completed') && run.state.checkpoints.length > 0);
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

  async function openExample(): Promise<void> {
    const inWorkspace = await vscode.workspace.findFiles('**/examples/baseline.yaml', '**/node_modules/**', 1);
    let target: vscode.Uri | undefined = inWorkspace[0];
    const bundled = vscode.Uri.joinPath(context.extensionUri, 'examples', 'baseline.yaml');
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!target && folder && existsSync(bundled.fsPath)) {
      // A copy in the workspace, so its runs land there and not inside the extension.
      target = vscode.Uri.joinPath(folder.uri, 'vin-ocr-baseline.yaml');
      if (!existsSync(target.fsPath)) await copyFile(bundled.fsPath, target.fsPath);
    }
    target ??= existsSync(bundled.fsPath) ? bundled : undefined;
    if (!target) {
      void vscode.window.showErrorMessage('VIN OCR: the example config is missing from this installation.');
      return;
    }
    await vscode.window.showTextDocument(target);
  }

  const command = (id: string, handler: (...args: any[]) => unknown) => vscode.commands.registerCommand(id, handler);
  context.subscriptions.push(
    log,
    interpreter,
    controller,
    tree,
    view,
    vscode.window.registerTreeDataProvider('vinOcr.runs', tree),
    vscode.window.registerWebviewViewProvider(TRAINING_VIEW_ID, view),
    vscode.tasks.registerTaskProvider('vin-ocr', createTaskProvider(interpreter, trainerDir)),
    ...registerConfigLens(),
    command('vinOcr.train', (uri?: vscode.Uri) => train(uri)),
    command('vinOcr.trainCancel', (node?: unknown) => controller.cancel(isRunNode(node) ? node.live : undefined)),
    command('vinOcr.trainResume', async (node?: unknown) => {
      const run = isRunNode(node) ? node : await pickStoppedRun();
      if (run?.dir) return controller.resume(run.dir, join(run.dir, 'config.yaml'));
      return undefined;
    }),
    command('vinOcr.trainRetry', (node: unknown, change: RetryChange) => (isRunNode(node) && node.live ? controller.retry(node.live, change) : undefined)),
    command('vinOcr.evaluateCheckpoint', (arg?: unknown, labels?: unknown) => evaluateCheckpoint(arg, labels, interpreter, trainerDir, log)),
    // The Explorer passes (clicked, selection): only a string second argument names a checkpoint.
    command('vinOcr.readVin', (arg?: unknown, checkpoint?: unknown) => readVin(arg, typeof checkpoint === 'string' ? checkpoint : undefined, interpreter, trainerDir, log)),
    command('vinOcr.setUpEnvironment', () => setUpEnvironment(context, hardware, log)),
    command('vinOcr.trainShowLog', () => log.show()),
    command('vinOcr.trainOpenExample', () => openExample()),
    command('vinOcr.trainChooseInterpreter', () => chooseInterpreter()),
    command('vinOcr.runsRefresh', () => tree.reload()),
    // Not in the manifest: lets tests and other extensions read what the tree and the view show.
    command('vinOcr.runsList', async () => {
      await tree.reload();
      return tree.runs();
    }),
    command('vinOcr.trainViewStatus', () => ({ resolved: view.resolved, delivered: { ...view.delivered } })),
    command('vinOcr.runsCompare', (node?: unknown) => compareRuns(tree, isRunNode(node) ? node : undefined)),
    command('vinOcr.runDelete', async (node?: unknown) => {
      if (!isRunNode(node) || !node.dir) return;
      if (node.state.status === 'running' || node.state.status === 'queued') {
        void vscode.window.showWarningMessage('VIN OCR: cancel the run before deleting it.');
        return;
      }
      const remove = 'Delete';
      const answer = await vscode.window.showWarningMessage(`Delete run ${node.id} with its checkpoints and logs?`, { modal: true, detail: node.dir }, remove);
      if (answer !== remove) return;
      await vscode.workspace.fs.delete(vscode.Uri.file(node.dir), { recursive: true, useTrash: true }).then(undefined, () => vscode.workspace.fs.delete(vscode.Uri.file(node.dir!), { recursive: true }));
      await tree.reload();
    }),
    command('vinOcr.runOpenFolder', (node?: unknown) => {
      const path = isRunNode(node) ? node.dir : (node as { path?: string } | undefined)?.path;
      if (!path) return;
      const uri = vscode.Uri.file(path);
      return vscode.workspace.getWorkspaceFolder(uri) ? vscode.commands.executeCommand('revealInExplorer', uri) : vscode.commands.executeCommand('revealFileInOS', uri);
    }),
    command('vinOcr.runOpenLog', (node?: unknown) => {
      const path = isRunNode(node) ? (node.stored?.logFile ?? (node.dir ? join(node.dir, 'train.log') : undefined)) : (node as { path?: string } | undefined)?.path;
      return path ? vscode.window.showTextDocument(vscode.Uri.file(path)) : undefined;
    }),
    command('vinOcr.runOpenConfig', (node?: unknown) => (isRunNode(node) && node.dir ? vscode.window.showTextDocument(vscode.Uri.file(join(node.dir, 'config.yaml'))) : undefined)),
    command('vinOcr.runOpenTensorBoard', async (node?: unknown) => {
      const folder = isRunNode(node) ? node.stored?.tensorboardDir : (node as { path?: string } | undefined)?.path;
      if (!folder) {
        void vscode.window.showInformationMessage('VIN OCR: this run has no TensorBoard files.');
        return;
      }
      await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(folder)).then(undefined, () => undefined);
      const copy = 'Copy TensorBoard Command';
      if ((await vscode.window.showInformationMessage(`TensorBoard files: ${folder}`, copy)) === copy) await vscode.env.clipboard.writeText(`tensorboard --logdir "${folder}"`);
    }),
    command('vinOcr.runShowFailure', (node?: unknown) => {
      if (!isRunNode(node)) return;
      const state = node.state;
      void vscode.window.showErrorMessage(`Run ${node.id} failed${state.errorCode ? ` (${state.errorCode})` : ''}: ${state.errorMessage ?? 'no message'}${state.hint ? ` ${state.hint}` : ''}`);
    }),
  );
  return controller;
}
