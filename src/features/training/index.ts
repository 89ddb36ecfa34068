// Training features: the Train command, the "VIN OCR Training" log, progress notification and
// status bar, the Runs tree with its run commands, the Training view, tasks, CodeLens, environment
// set-up and the checkpoint commands (Evaluate, Read VIN, Export Model). This file only wires them;
// everything registered here is disposed with the extension, and disposing stops every trainer
// (SIGTERM to each process group at once, so nothing outlives the window).
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { PADDLE_ENVIRONMENT_INFO, type FamilyEnvironment } from '../../core/trainer/family-environments';
import { createLocalLauncher } from '../../core/trainer/local-launcher';
import type { HardwareState } from '../hardware/state';
import { chooseInterpreter, type InterpreterResolution, type InterpreterService } from '../interpreter';
import { evaluateCheckpoint, readVin } from './checkpoint-commands';
import { compareRuns } from './compare';
import { registerConfigLens } from './config-lens';
import { TrainingController } from './controller';
import { setUpEnvironment } from './environment-command';
import { exportModel, type ExportModelOptions } from './export-command';
import { createTrainingLog, type TrainingLog } from './log';
import { setUpPaddleEnvironment } from './paddle-environment-command';
import { setUpDeepseekEnvironment } from './deepseek-environment-command';
import { createTrainerPythonChooser, familyPythonFor, ignoredFamilySetting } from './family-environment';
import type { RetryChange } from './outcome';
import { confirmValid, pickTrainingConfig } from './preflight';
import {
  cancelRun,
  deleteRun,
  isRunNode,
  openRunConfig,
  openRunFolder,
  openRunLog,
  openRunTensorBoard,
  resumeRun,
  retryRun,
  showRunFailure,
} from './run-commands';
import { RunsTreeProvider } from './runs-tree';
import { createTaskProvider } from './tasks';
import { TRAINING_VIEW_ID, TrainingViewProvider } from './training-view';
import { requireTrust } from './trust';

let activeController: TrainingController | undefined;

/** For deactivate(): resolves once every trainer process tree is gone. */
export async function shutdownTraining(): Promise<void> {
  await activeController?.shutdown();
}

/** The training log says which interpreter the trainer runs with, and when the setting was passed over. */
function logResolution(log: TrainingLog, { setting, resolved }: InterpreterResolution): void {
  if (resolved) log.info(`trainer interpreter: ${resolved.reason}`);
  if (resolved && setting && resolved.source !== 'setting')
    log.warn(`vinOcr.pythonPath "${setting}" did not answer as Python; using ${resolved.path} instead.`);
}

export function registerTrainingFeatures(
  context: vscode.ExtensionContext,
  hardware: HardwareState,
  interpreter: InterpreterService,
): TrainingController {
  const log = createTrainingLog();
  // A family environment's interpreter, asked at every start (the user may set it up meanwhile): PaddleOCR's for
  // VIN_OCR_PADDLE_PYTHON, DeepSeek-OCR's for its whole trainer. A setting that names nothing is said once in the log.
  const warnedSettings = new Map<string, string | undefined>();
  const familyPython = (environment: FamilyEnvironment): string | undefined => {
    const resolved = familyPythonFor(context, environment);
    const ignored = ignoredFamilySetting(environment, resolved);
    if (ignored && ignored !== warnedSettings.get(environment.id)) {
      const otherwise = environment.role === 'child' ? 'the trainer’s own Python' : 'none (set up its environment)';
      log.warn(`${environment.setting} "${ignored}" does not exist; ${environment.label} runs use ${resolved?.path ?? otherwise}.`);
    }
    warnedSettings.set(environment.id, ignored);
    return resolved?.path;
  };
  const paddlePython = () => familyPython(PADDLE_ENVIRONMENT_INFO);
  const trainerPython = createTrainerPythonChooser(interpreter, familyPython);
  // Every trainer this window starts (runs, predict, evaluate) goes through this one launcher.
  const launcher = createLocalLauncher({ trainerDir: vscode.Uri.joinPath(context.extensionUri, 'trainer').fsPath, paddlePython });
  const cliPath = vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath;
  const controller = new TrainingController(context, log, trainerPython, launcher);
  activeController = controller;
  const tree = new RunsTreeProvider(controller);
  const oneShot = { trainerPython, launcher, log };
  const view = new TrainingViewProvider(context.extensionUri, controller);

  async function train(uri?: vscode.Uri): Promise<unknown> {
    if (!requireTrust('Training')) return undefined; // before any picking: nothing here may run untrusted
    const config = await pickTrainingConfig(uri instanceof vscode.Uri ? uri : undefined);
    if (!config) return undefined;
    if (!(await confirmValid(config.uri, hardware.current?.facts))) return undefined;
    return controller.start({ configPath: config.uri.fsPath });
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

  const command = (id: string, handler: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, handler);
  context.subscriptions.push(
    log,
    interpreter.onDidResolve((resolution) => logResolution(log, resolution)),
    controller,
    tree,
    view,
    vscode.window.registerTreeDataProvider('vinOcr.runs', tree),
    vscode.window.registerWebviewViewProvider(TRAINING_VIEW_ID, view),
    vscode.tasks.registerTaskProvider('vin-ocr', createTaskProvider(interpreter, cliPath, familyPython)),
    ...registerConfigLens(),
    command('vinOcr.train', (uri?: vscode.Uri) => train(uri)),
    command('vinOcr.trainCancel', (node?: unknown) => cancelRun(node, controller)),
    command('vinOcr.trainResume', (node?: unknown) => resumeRun(node, tree, controller)),
    command('vinOcr.trainRetry', (node: unknown, change: RetryChange) => retryRun(node, change, controller)),
    command('vinOcr.evaluateCheckpoint', (arg?: unknown, labels?: unknown) => evaluateCheckpoint(arg, labels, oneShot)),
    // The Explorer passes (clicked, selection): only a string second argument names a checkpoint.
    command('vinOcr.readVin', (arg?: unknown, checkpoint?: unknown) =>
      readVin(arg, typeof checkpoint === 'string' ? checkpoint : undefined, oneShot),
    ),
    // From the Runs tree (a run or a checkpoint node) or the palette; callers may pass the output folder and options.
    command('vinOcr.exportModel', (arg?: unknown, output?: unknown, options?: ExportModelOptions) =>
      exportModel(arg, output, oneShot, options ?? {}),
    ),
    command('vinOcr.setUpEnvironment', (arg?: unknown) => setUpEnvironment(context, hardware, log, arg)),
    // From a failed paddleocr run (its config), the palette, or the Explorer/editor (a config file).
    command('vinOcr.setUpPaddleEnvironment', (arg?: unknown) => setUpPaddleEnvironment(context, hardware, log, arg)),
    // From a DeepSeek-OCR run or command that found no environment, the palette, or "Set Up Trainer Environment".
    command('vinOcr.setUpDeepSeekEnvironment', () => setUpDeepseekEnvironment(context, hardware, log)),
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
    command('vinOcr.runDelete', (node?: unknown) => deleteRun(node, tree)),
    command('vinOcr.runOpenFolder', (node?: unknown) => openRunFolder(node)),
    command('vinOcr.runOpenLog', (node?: unknown) => openRunLog(node)),
    command('vinOcr.runOpenConfig', (node?: unknown) => openRunConfig(node)),
    command('vinOcr.runOpenTensorBoard', (node?: unknown) => openRunTensorBoard(node)),
    command('vinOcr.runShowFailure', (node?: unknown) => showRunFailure(node)),
  );
  return controller;
}
