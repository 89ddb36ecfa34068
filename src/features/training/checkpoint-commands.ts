// "Read VIN from Image" and "Evaluate Checkpoint": one-shot trainer commands on a chosen checkpoint,
// started through the window's launcher like every other trainer.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { describeFailure } from '../../core/trainer/failure';
import { runTrainerOnce, type OneShotResult } from '../../core/trainer/launch';
import type { TrainerLauncher } from '../../core/trainer/launcher';
import { describeShippedReader, PRETRAINED_ALIAS } from '../../core/trainer/pretrained';
import { EXACT_MATCH, formatMetric, formatPercent } from '../../core/trainer/metrics';
import {
  CHECKPOINT_EXTENSION,
  CHECKPOINT_FOLDER_GLOB,
  CHECKPOINT_GLOB,
  CHECKPOINT_SUMMARY_FILE,
  checkpointDisplayName,
  checkpointOfFoundFile,
  PADDLE_CHECKPOINT_GLOB,
  NOT_RUNS_GLOB,
  type FoundCheckpoint,
} from '../../core/trainer/run-layout';
import {
  checkpointTarget,
  describeCheckpointModel,
  evaluateArgs,
  IMAGE_EXTENSIONS,
  parseCheckpointSummary,
  parsePredictOutput,
  predictArgs,
  type CheckpointSummary,
  type PredictResult,
} from '../../core/trainer/trainer-args';
import { modelTypeOfCheckpointPath, type TrainerPythonChooser } from './family-environment';
import type { TrainingLog } from './log';
import { requireTrust } from './trust';

const PREDICT_TIMEOUT_MS = 5 * 60 * 1000;
const EVALUATE_TIMEOUT_MS = 30 * 60 * 1000;
/** Checkpoints of each kind the picker looks for: one findFiles per kind, bounded like every workspace search. */
const MAX_CHECKPOINTS = 500;
/** A summary file is a few KB; a bigger one is not read (the item just says "fine-tuned"). */
const MAX_SUMMARY_BYTES = 256 * 1024;

/** What a one-shot command needs: which Python (by the checkpoint's family), which launcher, where to log. */
export interface OneShotContext {
  trainerPython: TrainerPythonChooser;
  launcher: TrainerLauncher;
  log: TrainingLog;
}

interface CheckpointItem extends vscode.QuickPickItem {
  path?: string;
  browse?: 'file' | 'folder';
}

async function readSummary(folder: string): Promise<CheckpointSummary> {
  const uri = vscode.Uri.joinPath(vscode.Uri.file(folder), CHECKPOINT_SUMMARY_FILE);
  try {
    if ((await vscode.workspace.fs.stat(uri)).size > MAX_SUMMARY_BYTES) return {};
    return parseCheckpointSummary(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
  } catch {
    return {};
  }
}

/** The workspace's checkpoints: baseline `.pt` files and fine-tuning checkpoint folders, best ones first, newest runs first. */
async function workspaceCheckpoints(): Promise<CheckpointItem[]> {
  const [files, summaries, paddle] = await Promise.all([
    vscode.workspace.findFiles(CHECKPOINT_GLOB, NOT_RUNS_GLOB, MAX_CHECKPOINTS),
    vscode.workspace.findFiles(CHECKPOINT_FOLDER_GLOB, NOT_RUNS_GLOB, MAX_CHECKPOINTS),
    vscode.workspace.findFiles(PADDLE_CHECKPOINT_GLOB, NOT_RUNS_GLOB, MAX_CHECKPOINTS),
  ]);
  const found = [...files, ...summaries, ...paddle]
    .map((uri) => checkpointOfFoundFile(uri.fsPath))
    .filter((checkpoint): checkpoint is FoundCheckpoint => checkpoint !== undefined);
  const described = await Promise.all(
    found.map(async (checkpoint) => {
      const summary = checkpoint.folder ? await readSummary(checkpoint.path) : undefined;
      const run = vscode.workspace.asRelativePath(checkpoint.runDir);
      const model = checkpoint.family ?? describeCheckpointModel(checkpoint.folder, summary);
      return { checkpoint, run, model, modelId: summary?.modelId };
    }),
  );
  return described
    .sort((a, b) => Number(b.checkpoint.best) - Number(a.checkpoint.best) || b.run.localeCompare(a.run))
    .map(({ checkpoint, run, model, modelId }) => ({
      label: `$(${checkpoint.best ? 'star-full' : 'package'}) ${checkpoint.name}${checkpoint.folder ? '/' : ''}`,
      description: `${run} · ${model}`,
      // The model a fine-tuning run adapted (a Hugging Face id or a local folder).
      detail: modelId,
      path: checkpoint.path,
    }));
}

/** A checkpoint from the workspace's runs (best ones first), or one the user browses to: a `.pt` file or a checkpoint folder. */
export async function pickCheckpoint(): Promise<string | undefined> {
  const items = await workspaceCheckpoints();
  // The shipped reader works before any training: first when the workspace has no run, else after its runs.
  const shipped: CheckpointItem = {
    label: '$(verified) Shipped pretrained reader',
    description: describeShippedReader(),
    path: PRETRAINED_ALIAS,
  };
  const browseFile: CheckpointItem = { label: '$(file) Browse for a .pt checkpoint…', description: 'baseline', browse: 'file' };
  const browseFolder: CheckpointItem = {
    label: '$(folder-opened) Browse for a checkpoint folder…',
    description: 'a fine-tuning checkpoint, a LoRA adapter or a run folder',
    browse: 'folder',
  };
  const chosen = await vscode.window.showQuickPick<CheckpointItem>(
    [...items, shipped, { label: '', kind: vscode.QuickPickItemKind.Separator }, browseFile, browseFolder],
    {
      title: 'VIN OCR: which checkpoint?',
      placeHolder: items.length ? 'A run’s best checkpoint reads best' : 'No runs in this workspace yet: the shipped reader reads VINs now',
      matchOnDescription: true,
    },
  );
  if (!chosen) return undefined;
  if (chosen.path) return chosen.path;
  if (chosen.browse === 'folder') {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      canSelectFiles: false,
      canSelectFolders: true,
      openLabel: 'Use Checkpoint',
    });
    return picked?.[0]?.fsPath;
  }
  if (chosen.browse !== 'file') return undefined;
  const filters = { Checkpoints: [CHECKPOINT_EXTENSION.slice(1)] };
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters, openLabel: 'Use Checkpoint' });
  return picked?.[0]?.fsPath;
}

async function isFolder(uri: vscode.Uri): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) !== 0;
  } catch {
    return false;
  }
}

/**
 * A checkpoint named by a command argument: a Runs-tree checkpoint node (a `.pt` file or a checkpoint
 * folder), or the URI of a `.pt` file, a checkpoint folder, a run folder or an adapter folder (not an image's).
 */
async function checkpointArgument(arg: unknown): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return checkpointTarget(arg.fsPath, await isFolder(arg));
  const candidate = arg as { kind?: string; path?: string } | undefined;
  return candidate?.kind === 'checkpoint' && typeof candidate.path === 'string' ? candidate.path : undefined;
}

function describeRead(result: PredictResult): string {
  if (result.error || !result.vin) return `${basename(result.image)}: ${result.error ?? 'no VIN read'}`;
  const confidence = result.confidence === undefined ? '' : ` (${formatPercent(result.confidence)})`;
  // Characters read with low confidence are the ones to check by eye.
  const doubtful = (result.characters ?? []).map((c, index) => ({ ...c, position: index + 1 })).filter((c) => c.confidence < 0.9);
  const doubts = doubtful.length
    ? ` · check ${doubtful.map((c) => `#${c.position} ${c.char} ${(c.confidence * 100).toFixed(0)}%`).join(', ')}`
    : '';
  return `${result.vin}${confidence}${doubts}`;
}

/**
 * The interpreter for a trainer command on this checkpoint: its family's own environment where the trainer must run
 * in one (a DeepSeek-OCR adapter), else the trainer's. The shipped reader is the baseline's.
 */
export async function pythonForCheckpoint(context: OneShotContext, checkpoint: string, what: string): Promise<string | undefined> {
  const modelType = checkpoint === PRETRAINED_ALIAS ? undefined : await modelTypeOfCheckpointPath(checkpoint);
  return context.trainerPython.forModelType(modelType, what);
}

/** Runs a one-shot trainer command with a cancellable notification; `cancelled` says the user stopped it. */
export async function runWithProgress(
  context: OneShotContext,
  python: string,
  title: string,
  args: string[],
  timeoutMs: number,
  message?: string,
): Promise<OneShotResult & { cancelled: boolean }> {
  const { launcher, log } = context;
  const verb = args[0];
  let cancelled = false;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) => {
      if (message) progress.report({ message });
      const abort = new AbortController();
      token.onCancellationRequested(() => {
        cancelled = true;
        abort.abort();
      });
      return runTrainerOnce(launcher, { python, args, timeoutMs, signal: abort.signal, onLog: (line) => log.info(`${verb}: ${line}`) });
    },
  );
  return { ...outcome, cancelled };
}

/** Why a one-shot command gave no answer, when it could not say so in JSON itself. */
function silentFailure(outcome: OneShotResult): string | undefined {
  if (outcome.timedOut) return 'the trainer did not answer in time';
  return outcome.failure ? describeFailure(outcome.failure) : undefined;
}

/**
 * Reads the VIN in an image. From the Explorer `arg` is the image; from the Runs tree a checkpoint;
 * callers (tests, other extensions) may pass both: `vinOcr.readVin(imageUri, checkpointPath)`.
 */
export async function readVin(arg: unknown, checkpointArg: unknown, context: OneShotContext): Promise<PredictResult[] | undefined> {
  if (!requireTrust('Reading a VIN')) return undefined;
  const fromArg = await checkpointArgument(arg);
  let image = arg instanceof vscode.Uri && fromArg === undefined ? arg.fsPath : undefined;
  let checkpoint = fromArg ?? (typeof checkpointArg === 'string' ? checkpointArg : await checkpointArgument(checkpointArg));
  if (!image) {
    const filters = { Images: [...IMAGE_EXTENSIONS] };
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters, openLabel: 'Read VIN' });
    image = picked?.[0]?.fsPath;
  }
  if (!image) return undefined;
  checkpoint ??= await pickCheckpoint();
  if (!checkpoint) return undefined;
  const python = await pythonForCheckpoint(context, checkpoint, 'read the VIN');
  if (!python) return undefined;
  const outcome = await runWithProgress(
    context,
    python,
    `VIN OCR: reading ${basename(image)}`,
    predictArgs(checkpoint, [image]),
    PREDICT_TIMEOUT_MS,
  );
  const parsed = outcome.spawnError ? { error: silentFailure(outcome)! } : parsePredictOutput(outcome.stdout);
  if (!Array.isArray(parsed)) {
    // The trainer's own JSON error says most; without one, the classified exit; then the last log line.
    const detail = outcome.stdout.trim() ? parsed.error : (silentFailure(outcome) ?? parsed.error);
    const last = outcome.stderr.length ? ` (${outcome.stderr.at(-1)})` : '';
    void vscode.window.showErrorMessage(`VIN OCR: could not read the VIN: ${detail}${last}`);
    return undefined;
  }
  for (const result of parsed) announceRead(result, context.log);
  return parsed;
}

function announceRead(result: PredictResult, log: TrainingLog): void {
  log.info(`read ${result.image}: ${describeRead(result)}`);
  const copy = 'Copy VIN';
  // Not awaited: the command answers with the reads at once; the button works whenever it is clicked.
  if (result.vin && !result.error) {
    void vscode.window
      .showInformationMessage(`VIN OCR: ${describeRead(result)}`, copy)
      .then((answer) => (answer === copy ? vscode.env.clipboard.writeText(result.vin!) : undefined));
  } else void vscode.window.showWarningMessage(`VIN OCR: ${describeRead(result)}`);
}

interface EvaluateOutput {
  metrics?: Record<string, number>;
  size?: number;
  error?: { message?: string; hint?: string };
}

function parseEvaluateOutput(stdout: string): EvaluateOutput | undefined {
  try {
    return JSON.parse(stdout) as EvaluateOutput;
  } catch {
    return undefined;
  }
}

function evaluationMarkdown(checkpoint: string, labels: string, result: EvaluateOutput & { metrics: Record<string, number> }): string {
  const lines = [
    `# Evaluation of ${checkpointDisplayName(checkpoint)}`,
    '',
    `Checkpoint: \`${checkpoint}\`  `,
    `Data: \`${labels}\` (${result.size ?? '?'} images)`,
  ];
  lines.push('', '| metric | value |', '|---|---|');
  for (const [name, value] of Object.entries(result.metrics))
    if (typeof value === 'number') lines.push(`| ${name} | ${formatMetric(name, value)} |`);
  return `${lines.join('\n')}\n`;
}

/** Scores a checkpoint on a labelled dataset; `vinOcr.evaluateCheckpoint(checkpoint?, labelsUri?)`. Resolves with the metrics. */
export async function evaluateCheckpoint(
  arg: unknown,
  labelsArg: unknown,
  context: OneShotContext,
): Promise<Record<string, number> | undefined> {
  if (!requireTrust('Evaluating a checkpoint')) return undefined;
  const checkpoint = (await checkpointArgument(arg)) ?? (typeof arg === 'string' ? arg : undefined) ?? (await pickCheckpoint());
  if (!checkpoint) return undefined;
  const labels = labelsArg instanceof vscode.Uri ? [labelsArg] : await pickLabels();
  if (!labels?.[0]) return undefined;
  const labelsPath = labels[0].fsPath;
  const python = await pythonForCheckpoint(context, checkpoint, 'evaluate the checkpoint');
  if (!python) return undefined;
  const title = `VIN OCR: evaluating ${checkpointDisplayName(checkpoint)}`;
  const outcome = await runWithProgress(context, python, title, evaluateArgs(checkpoint, labelsPath), EVALUATE_TIMEOUT_MS);
  const result = parseEvaluateOutput(outcome.stdout);
  if (!result?.metrics) {
    const message = result?.error?.message ?? silentFailure(outcome) ?? outcome.stderr.at(-1) ?? 'no result';
    void vscode.window.showErrorMessage(`VIN OCR: evaluation failed: ${message}${result?.error?.hint ? ` ${result.error.hint}` : ''}`);
    return undefined;
  }
  const content = evaluationMarkdown(checkpoint, labelsPath, { ...result, metrics: result.metrics });
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(document, { preview: true });
  context.log.info(`evaluate ${checkpoint} on ${labelsPath}: ${EXACT_MATCH} ${result.metrics[EXACT_MATCH] ?? '?'}`);
  return result.metrics;
}

function pickLabels(): Thenable<vscode.Uri[] | undefined> {
  return vscode.window.showOpenDialog({
    canSelectMany: false,
    canSelectFolders: true,
    canSelectFiles: true,
    openLabel: 'Evaluate on This',
    title: 'labels.txt, or an image folder with metadata.jsonl/csv',
  });
}
