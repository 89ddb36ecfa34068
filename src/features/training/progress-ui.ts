// Where a running training shows itself: a cancellable notification per run and one status-bar item.
import * as vscode from 'vscode';
import type { LiveRun } from '../../core/trainer/run-manager';
import { formatDuration, runFraction, type RunState } from '../../core/trainer/run-state';

/** "step 120/2000 · loss 0.4312 · ETA 1m 20s": the same words in the notification and the status-bar tooltip. */
export function progressMessage(state: RunState): string {
  if (state.status === 'queued') return 'waiting for a free slot';
  const parts: string[] = [];
  parts.push(state.totalSteps ? `step ${state.step}/${state.totalSteps}` : `step ${state.step}`);
  if (state.loss !== undefined) parts.push(`loss ${state.loss.toFixed(4)}`);
  const accuracy = state.lastMetrics.exact_match;
  if (accuracy !== undefined) parts.push(`exact ${(accuracy * 100).toFixed(1)}%`);
  if (state.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(state.etaSeconds * 1000)}`);
  if (state.step === 0 && state.device === undefined) return 'starting the trainer…';
  return parts.join(' · ');
}

/** Shows a cancellable notification that follows one run until it ends. */
export function showRunNotification(run: LiveRun, label: string, subscribe: (listener: (run: LiveRun) => void) => vscode.Disposable): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VIN OCR: training ${label}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reportedPercent = 0;
        const update = (changed: LiveRun) => {
          if (changed.key !== run.key) return;
          const fraction = runFraction(changed.state);
          const percent = fraction === undefined ? reportedPercent : Math.floor(fraction * 100);
          progress.report({ message: progressMessage(changed.state), increment: Math.max(0, percent - reportedPercent) });
          reportedPercent = Math.max(reportedPercent, percent);
        };
        const subscription = subscribe(update);
        token.onCancellationRequested(() => run.cancel());
        update(run);
        void run.done.then(() => {
          subscription.dispose();
          resolve();
        });
      }),
  );
}

export class TrainingStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('vinOcr.training', vscode.StatusBarAlignment.Left, 90);

  constructor() {
    this.item.name = 'VIN OCR Training';
    this.item.command = 'vinOcr.trainingView.focus';
  }

  update(active: readonly LiveRun[]): void {
    const running = active.filter((run) => run.state.status === 'running');
    void vscode.commands.executeCommand('setContext', 'vinOcr.trainingActive', active.length > 0);
    if (active.length === 0) {
      this.item.hide();
      return;
    }
    const lead = running[0] ?? active[0]!;
    const fraction = runFraction(lead.state);
    const percent = fraction === undefined ? '' : ` ${Math.floor(fraction * 100)}%`;
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    this.item.text = `$(sync~spin) VIN OCR${percent}${more}`;
    const message = progressMessage(lead.state);
    this.item.tooltip = `Training ${lead.request.label}: ${message}${more ? `\n${active.length - 1} more queued or running` : ''}\nClick to show the Training view.`;
    this.item.accessibilityInformation = { label: `VIN OCR training${percent}, ${message}` };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
