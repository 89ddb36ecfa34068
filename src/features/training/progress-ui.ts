// Where a running training shows itself: a cancellable notification per run and one status-bar item.
// Both show progress against the budget that ends the run (steps or minutes), not the step count alone.
import * as vscode from 'vscode';
import { budgetPercent, progressMessage } from '../../core/trainer/progress';
import type { LiveRun } from '../../core/trainer/run-manager';

/** Shows a cancellable notification that follows one run until it ends. */
export function showRunNotification(run: LiveRun, label: string, subscribe: (listener: (run: LiveRun) => void) => vscode.Disposable): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VIN OCR: training ${label}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reportedPercent = 0;
        const update = (changed: LiveRun) => {
          if (changed.key !== run.key) return;
          const percent = budgetPercent(changed.state) ?? reportedPercent;
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
    const leadPercent = budgetPercent(lead.state);
    const percent = leadPercent === undefined ? '' : ` ${leadPercent}%`;
    const more = active.length > 1 ? ` (+${active.length - 1})` : '';
    this.item.text = `$(sync~spin) VIN OCR${percent}${more}`;
    const message = progressMessage(lead.state);
    const others = more ? `\n${active.length - 1} more queued or running` : '';
    this.item.tooltip = `Training ${lead.request.label}: ${message}${others}\nClick to show the Training view.`;
    this.item.accessibilityInformation = { label: `VIN OCR training${percent}, ${message}` };
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
