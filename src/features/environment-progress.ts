// One way to run an environment plan from the editor (the trainer's, SkyPilot's): a cancellable
// notification that names each step, the plan's output in the log.
import * as vscode from 'vscode';
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
