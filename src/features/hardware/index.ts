// Hardware features: the state (cached snapshot + background probe), the status-bar badge,
// the "Hardware" tree, the panel and the three commands. Every disposable is registered here.
import * as vscode from 'vscode';
import type { InterpreterService } from '../interpreter';
import { createHardwareBadge } from './badge';
import { createHardwarePanelController, type HardwarePanelController } from './panel';
import type { HardwareSnapshot, HardwareState } from './state';
import { HardwareStore } from './store';
import { HardwareTreeProvider } from './tree';

/** Window focus probes again at most this often: no constant polling, no process spawning storm. */
const FOCUS_REFRESH_INTERVAL_MS = 5 * 60 * 1000;

export interface HardwareFeatures extends HardwareState {
  readonly panel: HardwarePanelController;
  readonly tree: HardwareTreeProvider;
  readonly log: vscode.LogOutputChannel;
  /** performance.now() when the badge first showed cached text, undefined on a cold start. */
  readonly badgeFromCacheAt: number | undefined;
}

async function copyHardwareReport(state: HardwareState): Promise<void> {
  const snapshot: HardwareSnapshot = state.current ?? (await state.refresh('copy report'));
  const { formatMarkdownReport } = await import('../../core/hardware/report');
  await vscode.env.clipboard.writeText(formatMarkdownReport(snapshot.facts, snapshot.report, snapshot.interpreter));
  void vscode.window.showInformationMessage('VIN OCR: hardware report copied to the clipboard (Markdown).');
}

/** `interpreters` is the service training uses too: the badge describes the Python that Train runs. */
export function registerHardwareFeatures(context: vscode.ExtensionContext, interpreters: InterpreterService): HardwareFeatures {
  const log = vscode.window.createOutputChannel('VIN OCR: Hardware', { log: true });
  const store = new HardwareStore(context.globalState, vscode.Uri.joinPath(context.extensionUri, 'trainer').fsPath, interpreters, log);
  const badge = createHardwareBadge(store);
  const badgeFromCacheAt = store.current ? performance.now() : undefined;
  const tree = new HardwareTreeProvider(store);
  const panel = createHardwarePanelController(context, store, log);

  const refreshQuietly = (reason: string) => {
    store.refresh(reason).catch((error: unknown) => log.error(`hardware probe (${reason}) failed: ${String(error)}`));
  };

  context.subscriptions.push(
    log,
    store,
    badge,
    tree,
    panel,
    vscode.window.registerTreeDataProvider('vinOcr.hardware', tree),
    vscode.commands.registerCommand('vinOcr.showHardware', () => panel.show()),
    vscode.commands.registerCommand('vinOcr.refreshHardware', async () => {
      try {
        await store.refresh('command');
      } catch (error) {
        void vscode.window.showErrorMessage(`VIN OCR: hardware probe failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
    vscode.commands.registerCommand('vinOcr.copyHardwareReport', () =>
      copyHardwareReport(store).catch((error: unknown) => {
        void vscode.window.showErrorMessage(`VIN OCR: could not copy the hardware report: ${String(error)}`);
      }),
    ),
    interpreters.onDidChange(() => refreshQuietly('interpreter changed')),
    interpreters.onDidResolve(({ resolved }) => log.info(`interpreter: ${resolved?.reason ?? 'none found'}`)),
    vscode.window.onDidChangeWindowState((windowState) => {
      if (windowState.focused && performance.now() - store.lastProbeAt > FOCUS_REFRESH_INTERVAL_MS && !store.probing) {
        refreshQuietly('window focus');
      }
    }),
  );

  // The first probe starts after activate() has returned; until it lands the badge shows the cached machine.
  // (A focus event may have started one already.)
  const startup = setTimeout(() => {
    if (!store.probing) refreshQuietly('startup');
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(startup) });

  return {
    get current() {
      return store.current;
    },
    get probing() {
      return store.probing;
    },
    onDidChange: store.onDidChange,
    onDidChangeProbing: store.onDidChangeProbing,
    refresh: (reason: string) => store.refresh(reason),
    panel,
    tree,
    log,
    badgeFromCacheAt,
  };
}
