// What the user hears when a run ends. A failure's error code becomes the fix as a button
// (the troubleshooting in data/requirements.json, made clickable); a crash shows the last lines of the log.
import * as vscode from 'vscode';
import {
  DEEPSEEK_ATTENTION_HINT,
  DEEPSEEK_ENVIRONMENT_HINT,
  deepseekFailureKind,
  fallbackHint,
  needsPaddleEnvironment,
} from '../../core/trainer/error-codes';
import { DEEPSEEK_ENVIRONMENT_INFO } from '../../core/trainer/family-environments';
import { CER, EXACT_MATCH, formatMetric, metricInfo } from '../../core/trainer/metrics';
import type { LiveRun } from '../../core/trainer/run-manager';
import type { RunState } from '../../core/trainer/run-state';
import type { ConfigChanges } from '../../core/trainer/trainer-args';

export interface RetryChange {
  label: string;
  device?: 'cpu';
  /** Config keys to change (written to a derived copy of the config). */
  changes?: ConfigChanges;
}

export interface OutcomeActions {
  retry(run: LiveRun, change: RetryChange): void;
  resume(run: LiveRun): void;
  showLog(): void;
  installFlashAttnStub(): void;
}

interface Action {
  title: string;
  run(): void | Thenable<unknown>;
}

/** Dataset and config problems (`file:line: message`) as diagnostics, so they show where they are. */
export function publishIssues(collection: vscode.DiagnosticCollection, state: RunState): void {
  const byFile = new Map<string, vscode.Diagnostic[]>();
  for (const issue of state.issues ?? []) {
    const match = /^(.+?):(\d+):\s*(.*)$/.exec(issue);
    if (!match) continue;
    const line = Math.max(0, Number(match[2]) - 1);
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
      match[3]!,
      vscode.DiagnosticSeverity.Error,
    );
    diagnostic.source = 'VIN OCR trainer';
    diagnostic.code = state.errorCode;
    const list = byFile.get(match[1]!) ?? [];
    list.push(diagnostic);
    byFile.set(match[1]!, list);
  }
  collection.clear();
  for (const [file, diagnostics] of byFile) collection.set(vscode.Uri.file(file), diagnostics);
}

/**
 * DeepSeek-OCR's failures, as measured on its real code: outside its own environment (transformers too new, an import
 * failed) the fix is that environment; a missing flash-attn is fixed by eager attention (never sdpa, which its code
 * refuses, and never the flash-attn stub, which its guarded import does not need). Undefined: the generic advice.
 */
function deepseekActions(run: LiveRun, actions: OutcomeActions, showLog: Action): Action[] | undefined {
  const kind = deepseekFailureKind({ ...run.state, tail: run.tail });
  if (kind === 'environment') {
    const setUp: Action = {
      title: DEEPSEEK_ENVIRONMENT_INFO.setUpTitle,
      run: () => vscode.commands.executeCommand(DEEPSEEK_ENVIRONMENT_INFO.setUpCommand),
    };
    return [setUp, showLog];
  }
  if (kind === 'attention')
    return [
      {
        title: 'Use Eager',
        run: () => actions.retry(run, { label: 'eager attention', changes: { model: { attn_implementation: 'eager' } } }),
      },
      showLog,
    ];
  return undefined;
}

/** The buttons offered for a failure, by the trainer's error code (and, for DeepSeek-OCR, what was measured on it). */
export function failureActions(run: LiveRun, actions: OutcomeActions, modelType?: string): Action[] {
  const state = run.state;
  const showLog: Action = { title: 'Show Log', run: () => actions.showLog() };
  const deepseek = modelType === DEEPSEEK_ENVIRONMENT_INFO.id ? deepseekActions(run, actions, showLog) : undefined;
  if (deepseek) return deepseek;
  const setUp: Action = { title: 'Set Up Trainer Environment', run: () => vscode.commands.executeCommand('vinOcr.setUpEnvironment') };
  const onCpu: Action = { title: 'Retry on CPU', run: () => actions.retry(run, { label: 'on CPU', device: 'cpu' }) };
  const openConfig: Action = { title: 'Open Config', run: () => vscode.window.showTextDocument(vscode.Uri.file(run.request.configPath)) };
  if (needsPaddleEnvironment(state.errorCode)) {
    // PaddlePaddle or the clone's packages are missing: the PaddleOCR environment (for this config's clone) has both.
    const setUpPaddle: Action = {
      title: 'Set Up PaddleOCR Environment',
      run: () => vscode.commands.executeCommand('vinOcr.setUpPaddleEnvironment', vscode.Uri.file(run.request.configPath)),
    };
    return [setUpPaddle, showLog];
  }
  switch (state.errorCode) {
    case 'out_of_memory':
      return [
        {
          title: 'Retry With Batch Size 1',
          run: () => actions.retry(run, { label: 'batch size 1', changes: { training: { batch_size: 1 } } }),
        },
        onCpu,
        showLog,
      ];
    case 'flash_attn_missing':
      // The stub serves code that imports flash_attn unguarded; DeepSeek-OCR's is guarded (deepseekActions above).
      return [
        { title: 'Install the flash-attn Stub', run: () => actions.installFlashAttnStub() },
        {
          title: 'Use SDPA',
          run: () => actions.retry(run, { label: 'sdpa attention', changes: { model: { attn_implementation: 'sdpa' } } }),
        },
        {
          title: 'Use Eager',
          run: () => actions.retry(run, { label: 'eager attention', changes: { model: { attn_implementation: 'eager' } } }),
        },
      ];
    case 'missing_dependency':
      return state.installCommand
        ? [setUp, { title: 'Copy Install Command', run: () => vscode.env.clipboard.writeText(state.installCommand!) }, showLog]
        : [setUp, showLog];
    case 'no_interpreter':
      return [{ title: 'Choose Interpreter…', run: () => vscode.commands.executeCommand('vinOcr.trainChooseInterpreter') }, setUp];
    case 'cuda_unavailable':
    case 'mps_unavailable':
      return [onCpu, setUp, showLog];
    case 'invalid_dataset':
    case 'invalid_config':
    case 'paddleocr_clone_invalid':
      return [
        { title: 'Show Problems', run: () => vscode.commands.executeCommand('workbench.actions.view.problems') },
        openConfig,
        showLog,
      ];
    default:
      return [showLog, ...(state.lastCheckpoint || state.checkpoints.length ? [{ title: 'Resume', run: () => actions.resume(run) }] : [])];
  }
}

export function failureText(run: LiveRun, modelType?: string): string {
  const state = run.state;
  const what = state.errorMessage ?? 'the trainer failed';
  // The trainer sends a hint with every failure; ours fills in for an older trainer that knows the code but not the fix.
  const hintText = deepseekHint(run, modelType) ?? state.hint ?? fallbackHint(state.errorCode);
  const hint = hintText ? ` ${hintText}` : '';
  // A crash has no message of its own: the last lines of stderr are the best explanation we have.
  const tail =
    state.errorCode === 'crashed' || state.errorCode === undefined
      ? run.tail
          .filter((line) => line.trim())
          .slice(-3)
          .join(' ⏎ ')
      : '';
  const code = state.errorCode ? ` (${state.errorCode})` : '';
  return `VIN OCR: training ${run.request.label} failed${code}: ${what}${hint}${tail ? ` Last output: ${tail}` : ''}`;
}

/** What was measured on DeepSeek-OCR's code replaces the generic hint where the two differ. */
function deepseekHint(run: LiveRun, modelType: string | undefined): string | undefined {
  if (modelType !== DEEPSEEK_ENVIRONMENT_INFO.id) return undefined;
  const kind = deepseekFailureKind({ ...run.state, tail: run.tail });
  if (kind === 'attention') return DEEPSEEK_ATTENTION_HINT;
  if (kind === 'environment') return DEEPSEEK_ENVIRONMENT_HINT;
  return undefined;
}

/** " Best: exact match 42.0%, CER 0.1234." */
export function bestText(state: RunState): string {
  const parts = [EXACT_MATCH, CER]
    .filter((name) => state.bestMetrics[name] !== undefined)
    .map((name) => `${metricInfo(name).label} ${formatMetric(name, state.bestMetrics[name]!)}`);
  return parts.length ? ` Best: ${parts.join(', ')}.` : '';
}

/** `modelType`: the run's config's `model.type`, when known (the advice for some failures depends on the family). */
export async function announceOutcome(run: LiveRun, actions: OutcomeActions, modelType?: string): Promise<void> {
  const state = run.state;
  let chosen: Action | undefined;
  if (state.status === 'failed') {
    const offered = failureActions(run, actions, modelType);
    const title = await vscode.window.showErrorMessage(failureText(run, modelType), ...offered.map((action) => action.title));
    chosen = offered.find((action) => action.title === title);
  } else if (state.status === 'cancelled') {
    const checkpoint = state.lastCheckpoint ?? state.checkpoints.at(-1)?.path;
    const offered: Action[] = checkpoint ? [{ title: 'Resume', run: () => actions.resume(run) }] : [];
    const kept = checkpoint ? ` Checkpoint kept: ${vscode.workspace.asRelativePath(checkpoint)}.` : '';
    const title = await vscode.window.showInformationMessage(
      `VIN OCR: training ${run.request.label} cancelled at step ${state.step}.${kept}`,
      ...offered.map((action) => action.title),
    );
    chosen = offered.find((action) => action.title === title);
  } else if (state.status === 'completed') {
    const offered: Action[] = [
      { title: 'Read a VIN', run: () => vscode.commands.executeCommand('vinOcr.readVin') },
      { title: 'Show Runs', run: () => vscode.commands.executeCommand('vinOcr.runs.focus') },
    ];
    const title = await vscode.window.showInformationMessage(
      `VIN OCR: training ${run.request.label} finished at step ${state.step}.${bestText(state)}`,
      ...offered.map((action) => action.title),
    );
    chosen = offered.find((action) => action.title === title);
  }
  await chosen?.run();
}
