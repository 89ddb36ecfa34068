// "Read VIN from Image" and "Evaluate Checkpoint": one-shot trainer commands on a chosen checkpoint.
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { runTrainerOnce } from '../../core/trainer/launch';
import { evaluateArgs, parsePredictOutput, predictArgs, type PredictResult } from '../../core/trainer/trainer-args';
import type { TrainerInterpreter } from './interpreter';
import type { TrainingLog } from './log';
import { metricText } from './runs-tree';
import { requireTrust } from './trust';

const ONE_SHOT_TIMEOUT_MS = 5 * 60 * 1000;

/** A checkpoint from the workspace's runs (best ones first), or one the user browses to. */
export async function pickCheckpoint(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles('**/checkpoints/*.pt', '{**/node_modules/**,**/.venv/**}', 500);
  const items = files
    .map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(dirname(dirname(uri.fsPath))), path: uri.fsPath, best: /best/i.test(basename(uri.fsPath)) }))
    .sort((a, b) => Number(b.best) - Number(a.best) || b.description.localeCompare(a.description));
  const browse = { label: '$(folder-opened) Browse…', description: '', path: '', best: false };
  const chosen = await vscode.window.showQuickPick([...items, browse], { title: 'VIN OCR: which checkpoint?', placeHolder: items.length ? 'best.pt reads best' : 'No checkpoints in this workspace yet' });
  if (!chosen) return undefined;
  if (chosen !== browse) return chosen.path;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Checkpoints: ['pt'] }, openLabel: 'Use Checkpoint' });
  return picked?.[0]?.fsPath;
}

/** A checkpoint named by a command argument: a Runs-tree checkpoint node, or a `.pt` file's URI (not an image's). */
function checkpointArgument(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return /\.pt$/i.test(arg.fsPath) ? arg.fsPath : undefined;
  const candidate = arg as { kind?: string; path?: string } | undefined;
  return candidate?.kind === 'checkpoint' && typeof candidate.path === 'string' ? candidate.path : undefined;
}

function describeRead(result: PredictResult): string {
  if (result.error || !result.vin) return `${basename(result.image)}: ${result.error ?? 'no VIN read'}`;
  const confidence = result.confidence === undefined ? '' : ` (${(result.confidence * 100).toFixed(1)}%)`;
  // Characters read with low confidence are the ones to check by eye.
  const doubtful = (result.characters ?? []).map((c, index) => ({ ...c, position: index + 1 })).filter((c) => c.confidence < 0.9);
  const doubts = doubtful.length ? ` · check ${doubtful.map((c) => `#${c.position} ${c.char} ${(c.confidence * 100).toFixed(0)}%`).join(', ')}` : '';
  return `${result.vin}${confidence}${doubts}`;
}

/**
 * Reads the VIN in an image. From the Explorer `arg` is the image; from the Runs tree a checkpoint;
 * callers (tests, other extensions) may pass both: `vinOcr.readVin(imageUri, checkpointPath)`.
 */
export async function readVin(arg: unknown, checkpointArg: unknown, interpreter: TrainerInterpreter, trainerDir: string, log: TrainingLog): Promise<PredictResult[] | undefined> {
  if (!requireTrust('Reading a VIN')) return undefined;
  let image = arg instanceof vscode.Uri && !/\.pt$/i.test(arg.fsPath) ? arg.fsPath : undefined;
  let checkpoint = checkpointArgument(arg) ?? (typeof checkpointArg === 'string' ? checkpointArg : checkpointArgument(checkpointArg));
  if (!image) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Images: ['png', 'jpg', 'jpeg', 'bmp', 'webp', 'tif', 'tiff'] }, openLabel: 'Read VIN' });
    image = picked?.[0]?.fsPath;
  }
  if (!image) return undefined;
  checkpoint ??= await pickCheckpoint();
  if (!checkpoint) return undefined;
  const python = await interpreter.require('read the VIN');
  if (!python) return undefined;
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `VIN OCR: reading ${basename(image)}`, cancellable: true }, (_progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return runTrainerOnce({ python, trainerDir, args: predictArgs(checkpoint, [image]), timeoutMs: ONE_SHOT_TIMEOUT_MS, signal: abort.signal, onLog: (line) => log.info(`predict: ${line}`) });
  });
  const parsed = outcome.spawnError ? { error: outcome.spawnError } : parsePredictOutput(outcome.stdout);
  if (!Array.isArray(parsed)) {
    void vscode.window.showErrorMessage(`VIN OCR: could not read the VIN: ${parsed.error}${outcome.stderr.length ? ` (${outcome.stderr.at(-1)})` : ''}`);
    return undefined;
  }
  for (const result of parsed) {
    log.info(`read ${result.image}: ${describeRead(result)}`);
    const copy = 'Copy VIN';
    // Not awaited: the command answers with the reads at once; the button works whenever it is clicked.
    if (result.vin && !result.error) {
      void vscode.window.showInformationMessage(`VIN OCR: ${describeRead(result)}`, copy).then((answer) => (answer === copy ? vscode.env.clipboard.writeText(result.vin!) : undefined));
    } else void vscode.window.showWarningMessage(`VIN OCR: ${describeRead(result)}`);
  }
  return parsed;
}

/** Scores a checkpoint on a labelled dataset; `vinOcr.evaluateCheckpoint(checkpoint?, labelsUri?)`. Resolves with the metrics. */
export async function evaluateCheckpoint(arg: unknown, labelsArg: unknown, interpreter: TrainerInterpreter, trainerDir: string, log: TrainingLog): Promise<Record<string, number> | undefined> {
  if (!requireTrust('Evaluating a checkpoint')) return undefined;
  const checkpoint = checkpointArgument(arg) ?? (typeof arg === 'string' ? arg : undefined) ?? (await pickCheckpoint());
  if (!checkpoint) return undefined;
  const labels =
    labelsArg instanceof vscode.Uri
      ? [labelsArg]
      : await vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: true, canSelectFiles: true, openLabel: 'Evaluate on This', title: 'labels.txt, or an image folder with metadata.jsonl/csv' });
  if (!labels?.[0]) return undefined;
  const python = await interpreter.require('evaluate the checkpoint');
  if (!python) return undefined;
  const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `VIN OCR: evaluating ${basename(checkpoint)}`, cancellable: true }, (_progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return runTrainerOnce({ python, trainerDir, args: evaluateArgs(checkpoint, labels[0]!.fsPath), timeoutMs: 30 * 60 * 1000, signal: abort.signal, onLog: (line) => log.info(`evaluate: ${line}`) });
  });
  let result: { metrics?: Record<string, number>; size?: number; error?: { message?: string; hint?: string } } | undefined;
  try {
    result = JSON.parse(outcome.stdout) as typeof result;
  } catch {
    result = undefined;
  }
  if (!result?.metrics) {
    const message = result?.error?.message ?? outcome.spawnError ?? outcome.stderr.at(-1) ?? 'no result';
    void vscode.window.showErrorMessage(`VIN OCR: evaluation failed: ${message}${result?.error?.hint ? ` ${result.error.hint}` : ''}`);
    return undefined;
  }
  const lines = [`# Evaluation of ${basename(checkpoint)}`, '', `Checkpoint: \`${checkpoint}\`  `, `Data: \`${labels[0].fsPath}\` (${result.size ?? '?'} images)`, '', '| metric | value |', '|---|---|'];
  for (const [name, value] of Object.entries(result.metrics)) if (typeof value === 'number') lines.push(`| ${name} | ${metricText(name, value)} |`);
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: `${lines.join('\n')}\n` });
  await vscode.window.showTextDocument(document, { preview: true });
  log.info(`evaluate ${checkpoint} on ${labels[0].fsPath}: exact_match ${result.metrics.exact_match ?? '?'}`);
  return result.metrics;
}
