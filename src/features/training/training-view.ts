// The "Training" webview view in the panel: live charts, throughput, ETA, device and sample reads.
// The host batches chart points (one message per 100 ms per run, whatever the event rate); the
// webview draws at most once per animation frame. Strict CSP with a nonce; only dist/webview and
// media are loadable; all data is sent as JSON and rendered as text by the front-end.
import * as vscode from 'vscode';
import { emptySeries, type HostMessage, type WebviewMessage } from '../../../media/src/training-protocol';
import { ChartFeed, runView } from './chart-feed';
import type { TrainingController } from './controller';
import { webviewShell } from '../webview-html';

export const TRAINING_VIEW_ID = 'vinOcr.trainingView';
export const FLUSH_INTERVAL_MS = 100;

export class TrainingViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  /** Messages delivered to the webview, by type: lets the integration tests see the view follow a run. */
  readonly delivered: Record<string, number> = {};
  private selected: number | null = null;
  private readonly feed = new ChartFeed();
  private readonly dirtySamples = new Set<number>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly controller: TrainingController,
  ) {
    const subscription = controller.manager.subscribe({
      event: (run, event) => {
        if (this.feed.add(run, event)) {
          if (event.type === 'samples') this.dirtySamples.add(run.key);
          this.scheduleFlush();
        }
      },
    });
    this.disposables.push(
      { dispose: () => subscription.dispose() },
      controller.onDidChangeRun((run) => {
        // A new run takes over the view, unless the user picked one that is still running.
        const current = this.selected === null ? undefined : controller.manager.all.find((candidate) => candidate.key === this.selected);
        if (this.selected === null || (run.state.status === 'running' && current?.state.status !== 'running')) this.select(run.key);
        else this.post({ type: 'run', run: runView(run) });
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const webviewRoot = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    view.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, vscode.Uri.joinPath(this.extensionUri, 'media')] };
    view.webview.html = this.html(view.webview, webviewRoot);
    this.disposables.push(
      view.webview.onDidReceiveMessage((message: WebviewMessage) => this.receive(message)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    );
  }

  private receive(message: WebviewMessage): void {
    switch (message?.type) {
      case 'ready':
        this.sendSnapshot();
        break;
      case 'select':
        if (typeof message.key === 'number') this.select(message.key);
        break;
      case 'cancel': {
        const run = this.controller.manager.all.find((candidate) => candidate.key === message.key);
        if (run) void this.controller.cancel(run);
        break;
      }
      case 'showLog':
        void vscode.commands.executeCommand('vinOcr.trainShowLog');
        break;
      case 'train':
        void vscode.commands.executeCommand('vinOcr.train');
        break;
    }
  }

  private select(key: number): void {
    this.selected = key;
    this.sendSnapshot();
  }

  private sendSnapshot(): void {
    const runs = this.controller.manager.all.map(runView);
    const key = this.selected;
    const samples = key === null ? [] : this.feed.samplesOf(key).samples;
    this.post({ type: 'snapshot', runs, selected: key, series: key === null ? emptySeries() : this.feed.historyOf(key), samples });
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** One message per run per interval, however many events arrived. */
  flush(): void {
    this.flushTimer = undefined;
    for (const [key, points] of this.feed.drain()) if (key === this.selected) this.post({ type: 'points', key, points });
    for (const key of this.dirtySamples) {
      if (key !== this.selected) continue;
      const { step, samples } = this.feed.samplesOf(key);
      this.post({ type: 'samples', key, step, samples });
    }
    this.dirtySamples.clear();
  }

  private post(message: HostMessage): void {
    void this.view?.webview.postMessage(message).then((ok) => {
      if (ok) this.delivered[message.type] = (this.delivered[message.type] ?? 0) + 1;
    });
  }

  get resolved(): boolean {
    return this.view !== undefined;
  }

  private html(webview: vscode.Webview, root: vscode.Uri): string {
    return webviewShell({
      cspSource: webview.cspSource,
      title: 'Training',
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'training.js')).toString(),
      styleUris: [
        webview.asWebviewUri(vscode.Uri.joinPath(root, 'training.css')).toString(),
        webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'training.css')).toString(),
      ],
      extraImageSources: ['data:'], // sample thumbnails arrive as data: PNGs
    });
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}
