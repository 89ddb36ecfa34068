// "VIN OCR: Export Model…": a baseline checkpoint → model.onnx and vin-ocr-model.json, checked for
// parity with PyTorch (`python -m vin_ocr export`, docs/export.md). A one-shot trainer command like
// Evaluate: the window's launcher, a cancellable notification, the trainer's stderr in the training log.
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { describeFailure } from '../../core/trainer/failure';
import type { OneShotResult } from '../../core/trainer/launch';
import { checkpointDisplayName, RUN_MARKER_FILES } from '../../core/trainer/run-layout';
import {
  checkpointTarget,
  defaultExportFolder,
  describeParity,
  EXPORT_FILES,
  exportArgs,
  parseExportOutput,
  runFolderOfCheckpoint,
  type ExportOutcome,
  type ExportResult,
} from '../../core/trainer/trainer-args';
import { pickCheckpoint, pythonForCheckpoint, runWithProgress, type OneShotContext } from './checkpoint-commands';
import { requireTrust } from './trust';

/** Loading, exporting and the parity check take about half a minute on two cores; a slow machine gets plenty more. */
const EXPORT_TIMEOUT_MS = 30 * 60 * 1000;

/** `vinOcr.exportModel(checkpoint?, output?, options?)`: options for callers (tests, other extensions). */
export interface ExportModelOptions {
  /** Held-out images the parity check reads (the trainer's default when unset). */
  paritySize?: number;
}

interface ExportSource {
  checkpoint: string;
  /** The run the checkpoint belongs to: its export goes to `<run>/export/onnx` unless the user chooses otherwise. */
  runDir?: string;
}

async function stat(path: string): Promise<vscode.FileStat | undefined> {
  try {
    return await vscode.workspace.fs.stat(vscode.Uri.file(path));
  } catch {
    return undefined;
  }
}

async function isRunFolder(path: string): Promise<boolean> {
  const found = await Promise.all(RUN_MARKER_FILES.map((name) => stat(join(path, name))));
  return found.some(Boolean);
}

/** A checkpoint path (a `.pt` file, a checkpoint folder, a run folder or `pretrained`) and the run it belongs to. */
async function sourceOfPath(path: string): Promise<ExportSource> {
  const runDir = runFolderOfCheckpoint(path) ?? ((await isRunFolder(path)) ? path : undefined);
  return runDir ? { checkpoint: path, runDir } : { checkpoint: path };
}

/** A Runs-tree run (its best checkpoint) or checkpoint node, a checkpoint's URI, or a path; undefined for anything else. */
async function sourceOfArgument(arg: unknown): Promise<ExportSource | undefined> {
  if (typeof arg === 'string' && arg) return sourceOfPath(arg);
  if (arg instanceof vscode.Uri) {
    const folder = ((await stat(arg.fsPath))?.type ?? 0) & vscode.FileType.Directory;
    const target = checkpointTarget(arg.fsPath, folder !== 0);
    return target ? sourceOfPath(target) : undefined;
  }
  const node = arg as { kind?: unknown; dir?: unknown; path?: unknown } | undefined;
  if (node?.kind === 'run' && typeof node.dir === 'string') return { checkpoint: node.dir, runDir: node.dir };
  if (node?.kind === 'checkpoint' && typeof node.path === 'string') return sourceOfPath(node.path);
  return undefined;
}

interface FolderItem extends vscode.QuickPickItem {
  path?: string;
}

/** The folder to write: the run's `export/onnx` (offered first) or one the user browses to. */
async function chooseOutput(source: ExportSource): Promise<string | undefined> {
  if (source.runDir) {
    const inRun = defaultExportFolder(source.runDir);
    const existing = await stat(join(inRun, EXPORT_FILES.model));
    const items: FolderItem[] = [
      {
        label: '$(folder) Into the run folder',
        description: vscode.workspace.asRelativePath(inRun),
        detail: existing ? 'Replaces the export already there' : undefined,
        path: inRun,
      },
      { label: '$(folder-opened) Choose a folder…' },
    ];
    const chosen = await vscode.window.showQuickPick(items, {
      title: `VIN OCR: export ${checkpointDisplayName(source.checkpoint)} where?`,
      placeHolder: `${EXPORT_FILES.model} and ${EXPORT_FILES.manifest} go into this folder`,
    });
    if (!chosen) return undefined;
    if (chosen.path) return chosen.path;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    canSelectFiles: false,
    canSelectFolders: true,
    defaultUri: source.runDir ? vscode.Uri.file(source.runDir) : vscode.workspace.workspaceFolders?.[0]?.uri,
    openLabel: 'Export Here',
    title: `VIN OCR: the folder for ${EXPORT_FILES.model} and ${EXPORT_FILES.manifest}`,
  });
  return picked?.[0]?.fsPath;
}

/**
 * "Reveal in Explorer" (inside the workspace), "Open Folder" (the system's file manager; in a remote window, which
 * has none here, the folder in a new window), "Open Manifest".
 */
async function offerFiles(
  show: (message: string, ...items: string[]) => Thenable<string | undefined>,
  message: string,
  result: ExportResult,
): Promise<void> {
  const model = vscode.Uri.file(result.model);
  const reveal = 'Reveal in Explorer';
  const open = 'Open Folder';
  const manifest = 'Open Manifest';
  const actions = [...(vscode.workspace.getWorkspaceFolder(model) ? [reveal] : []), open, manifest];
  const answer = await show(message, ...actions);
  if (answer === reveal) await vscode.commands.executeCommand('revealInExplorer', model);
  else if (answer === open)
    await (vscode.env.remoteName
      ? vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(dirname(result.model)), { forceNewWindow: true })
      : vscode.commands.executeCommand('revealFileInOS', model));
  else if (answer === manifest) await vscode.window.showTextDocument(vscode.Uri.file(result.manifest));
}

async function offerSetUp(message: string, command: string | undefined): Promise<void> {
  const setUp = 'Set Up Trainer Environment';
  const copy = 'Copy Install Command';
  const answer = await vscode.window.showErrorMessage(message, setUp, ...(command ? [copy] : []));
  if (answer === setUp) await vscode.commands.executeCommand('vinOcr.setUpEnvironment');
  else if (answer === copy && command) await vscode.env.clipboard.writeText(command);
}

/** What the user is told about an export that wrote no files; every message is fire-and-forget. */
function reportNoExport(
  outcome: Extract<ExportOutcome, { kind: 'not-available' | 'failed' }>,
  run: OneShotResult,
  log: OneShotContext['log'],
): void {
  if (outcome.kind === 'not-available') {
    // Nothing failed: this model has no one-graph export, and the trainer says what to use instead.
    log.info(`export: ${outcome.message}${outcome.hint ? ` ${outcome.hint}` : ''}`);
    void vscode.window.showInformationMessage(`VIN OCR: ${outcome.message}${outcome.hint ? ` ${outcome.hint}` : ''}`);
    return;
  }
  // The trainer's own JSON error says most; without one, the classified exit; then the last log line.
  const unreported = run.stdout.trim() || run.timedOut ? undefined : run.failure;
  const detail = unreported ? describeFailure(unreported) : `${outcome.message}${outcome.hint ? ` ${outcome.hint}` : ''}`;
  const last = run.stderr.length && !outcome.code ? ` (${run.stderr.at(-1)})` : '';
  const message = `VIN OCR: the export failed: ${detail}${last}`;
  log.error(message);
  if (outcome.code === 'missing_dependency' || unreported?.errorCode === 'missing_dependency') {
    void offerSetUp(message, outcome.command);
    return;
  }
  const show = 'Show Log';
  void vscode.window.showErrorMessage(message, show).then((answer) => (answer === show ? log.show() : undefined));
}

/**
 * Exports a checkpoint to ONNX. `arg`: a Runs-tree run or checkpoint node, a URI or a path (else the checkpoint
 * picker); `outputArg`: the folder (a path or URI; else asked). Resolves with the trainer's result when the files
 * were written (also when the parity check failed: they stay for inspection), else undefined.
 */
export async function exportModel(
  arg: unknown,
  outputArg: unknown,
  context: OneShotContext,
  options: ExportModelOptions = {},
): Promise<ExportResult | undefined> {
  if (!requireTrust('Exporting a model')) return undefined;
  let source = await sourceOfArgument(arg);
  if (!source) {
    const picked = await pickCheckpoint();
    source = picked ? await sourceOfPath(picked) : undefined;
  }
  if (!source) return undefined;
  const output =
    outputArg instanceof vscode.Uri
      ? outputArg.fsPath
      : typeof outputArg === 'string' && outputArg
        ? outputArg
        : await chooseOutput(source);
  if (!output) return undefined;
  const python = await pythonForCheckpoint(context, source.checkpoint, 'export the model');
  if (!python) return undefined;
  const name = checkpointDisplayName(source.checkpoint);
  const args = exportArgs(source.checkpoint, output, options.paritySize === undefined ? {} : { paritySize: options.paritySize });
  const reading = 'exporting, then reading held-out images with PyTorch and ONNX Runtime…';
  const run = await runWithProgress(context, python, `VIN OCR: exporting ${name} to ONNX`, args, EXPORT_TIMEOUT_MS, reading);
  if (run.cancelled) {
    context.log.info(`export of ${source.checkpoint} cancelled`);
    return undefined;
  }
  const outcome = run.spawnError
    ? ({ kind: 'failed', message: describeFailure(run.failure!) } as const)
    : run.timedOut
      ? ({ kind: 'failed', message: 'the trainer did not answer in time' } as const)
      : parseExportOutput(run.stdout);
  if (outcome.kind !== 'exported') {
    reportNoExport(outcome, run, context.log);
    return undefined;
  }
  const { result } = outcome;
  const parity = describeParity(result.parity);
  const folder = dirname(result.model);
  context.log.info(`export ${source.checkpoint} → ${folder}: ${parity}`);
  if (result.parity.passed) {
    void offerFiles(
      (message, ...items) => vscode.window.showInformationMessage(message, ...items),
      `VIN OCR: exported ${name} to ${vscode.workspace.asRelativePath(result.model)}. Parity with PyTorch: ${parity}.`,
      result,
    );
  } else {
    void offerFiles(
      (message, ...items) => vscode.window.showWarningMessage(message, ...items),
      `VIN OCR: exported ${name}, but the ONNX graph reads differently from PyTorch: ${parity}. ` +
        `The files stay in ${folder} for inspection; do not deploy them.`,
      result,
    );
  }
  return result;
}
