// The hardware panel's HTML: the shared webview shell with the panel's script, style and placeholder.
import { webviewShell } from '../webview-html';

export { contentSecurityPolicy, createNonce } from '../webview-html';

export interface PanelHtmlInput {
  /** webview.cspSource */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce?: string;
}

export function panelHtml(input: PanelHtmlInput): string {
  return webviewShell({
    cspSource: input.cspSource,
    title: 'VIN OCR: Hardware',
    scriptUri: input.scriptUri,
    styleUris: [input.styleUri],
    placeholder: '<p class="muted">Loading hardware…</p>',
    nonce: input.nonce,
  });
}
