// The hardware panel (one webview panel, restored after reload by a serializer).
// The host owns the data; the webview only draws the PanelModel it is sent.
import * as vscode from 'vscode';
import { isWebviewMessage, THIS_MACHINE, type HostMessage, type WebviewMessage, type WebviewState } from '../../../media/src/protocol';
import { panelHtml } from './panel-html';
import { panelModelFor, type PanelContext } from './panel-model';
import type { HardwareState } from './state';

export const HARDWARE_PANEL_VIEW_TYPE = 'vinOcr.hardwarePanel';

/** What the webview last reported drawing (integration tests read it; nothing else depends on it). */
export interface RenderedSummary {
  targetId: string;
  platform: string;
  modelCount: number;
}

export interface HardwarePanelController extends vscode.Disposable {
  show(): void;
  readonly isOpen: boolean;
  readonly lastRendered: RenderedSummary | undefined;
  readonly onDidRender: vscode.Event<RenderedSummary>;
}

export function createHardwarePanelController(
  context: vscode.ExtensionContext,
  state: HardwareState,
  log: vscode.LogOutputChannel,
): HardwarePanelController {
  const webviewRoot = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
  const mediaRoot = vscode.Uri.joinPath(context.extensionUri, 'media');
  const panelContext: PanelContext = { trainerDir: vscode.Uri.joinPath(context.extensionUri, 'trainer').fsPath };
  const rendered = new vscode.EventEmitter<RenderedSummary>();
  let panel: vscode.WebviewPanel | undefined;
  let lastRendered: RenderedSummary | undefined;

  function attach(webviewPanel: vscode.WebviewPanel, savedTargetId: string | undefined): void {
    panel = webviewPanel;
    const webview = webviewPanel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, mediaRoot] };
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'hardware.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'hardware.css')).toString(),
    });
    let targetId = savedTargetId ?? THIS_MACHINE;
    const post = (message: HostMessage) => void webview.postMessage(message);

    const render = () => {
      try {
        const model = panelModelFor(targetId, state.current, panelContext);
        if (model) post({ type: 'render', model });
        post({ type: 'probing', probing: state.probing });
      } catch (error) {
        targetId = THIS_MACHINE;
        post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    };

    const handle = async (message: WebviewMessage) => {
      switch (message.type) {
        case 'ready':
          targetId = message.targetId ?? targetId;
          render();
          break;
        case 'checkAgainst':
          targetId = message.targetId;
          render();
          break;
        case 'refresh':
          await state.refresh('panel').catch((error: unknown) => post({ type: 'error', message: `Refresh failed: ${String(error)}` }));
          break;
        case 'copy':
          await vscode.env.clipboard.writeText(message.text);
          vscode.window.setStatusBarMessage('$(check) Copied to the clipboard', 2000);
          break;
        case 'copyReport':
          await vscode.commands.executeCommand('vinOcr.copyHardwareReport');
          break;
        case 'trainOnCloud':
          await vscode.commands.executeCommand('vinOcr.trainOnCloud', { instance: message.instanceId });
          break;
        case 'rendered':
          lastRendered = { targetId: message.targetId, platform: message.platform, modelCount: message.modelCount };
          rendered.fire(lastRendered);
          break;
      }
    };

    const subscriptions = [
      webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewMessage(message)) {
          log.warn(`hardware panel: ignored a malformed message ${JSON.stringify(message)?.slice(0, 200)}`);
          return;
        }
        handle(message).catch((error: unknown) => log.error(`hardware panel: ${String(error)}`));
      }),
      state.onDidChange(() => {
        if (targetId === THIS_MACHINE) render();
      }),
      state.onDidChangeProbing((probing) => post({ type: 'probing', probing })),
    ];
    webviewPanel.onDidDispose(() => {
      for (const subscription of subscriptions) subscription.dispose();
      if (panel === webviewPanel) panel = undefined;
    });
  }

  const serializer = vscode.window.registerWebviewPanelSerializer(HARDWARE_PANEL_VIEW_TYPE, {
    async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, saved: unknown) {
      const targetId =
        typeof (saved as Partial<WebviewState> | undefined)?.targetId === 'string' ? (saved as WebviewState).targetId : undefined;
      attach(webviewPanel, targetId);
    },
  });

  return {
    show() {
      if (panel) {
        panel.reveal();
        return;
      }
      // A panel restored from the last session that VS Code has not revived yet has no WebviewPanel to
      // reveal: close its tab rather than show two hardware panels.
      const staleTabs = vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(HARDWARE_PANEL_VIEW_TYPE));
      if (staleTabs.length > 0) void vscode.window.tabGroups.close(staleTabs);
      const created = vscode.window.createWebviewPanel(HARDWARE_PANEL_VIEW_TYPE, 'VIN OCR: Hardware', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [webviewRoot, mediaRoot],
      });
      created.iconPath = vscode.Uri.joinPath(mediaRoot, 'icons', 'vin-ocr.svg');
      attach(created, undefined);
    },
    get isOpen() {
      return panel !== undefined;
    },
    get lastRendered() {
      return lastRendered;
    },
    onDidRender: rendered.event,
    dispose() {
      serializer.dispose();
      panel?.dispose();
      rendered.dispose();
    },
  };
}
