// One way to run an environment plan from the editor (the trainer's, PaddleOCR's, DeepSeek-OCR's, SkyPilot's): a
// cancellable notification that names each step, the plan's output in the log; and one way to find the Python that
// creates the environment, or to say that there is none.
import * as vscode from 'vscode';
import { findBasePython } from '../core/interpreter/resolve';
import { runEnvironmentPlan, type EnvironmentPlan, type SetupResult } from '../core/trainer/environment';
import type { TrainingLog } from './training/log';

export function runPlanWithProgress(title: string, plan: Omit<EnvironmentPlan, 'torch'>, log: TrainingLog): Thenable<SetupResult> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return runEnvironmentPlan(plan, (line) => log.info(line), {
      signal: abort.signal,
      onStep: (index, step) =>
        progress.report({ message: `${step.title} (${index + 1}/${plan.steps.length})`, increment: 100 / plan.steps.length }),
    });
  });
}

/** The Python to create `environmentName` with; when PATH has none, says so (once, the same for every environment). */
export async function requireBasePython(environmentName: string): Promise<string | undefined> {
  const basePython = await findBasePython();
  if (!basePython)
    void vscode.window.showErrorMessage(
      `VIN OCR: no Python 3 found on PATH to create ${environmentName} with. Install Python 3.9 or newer first.`,
    );
  return basePython;
}
