// The one HTML shell every VIN OCR webview uses: a strict CSP (scripts only with this load's
// nonce, no inline styles) and no data at all — content arrives as messages drawn with textContent.
import { randomBytes } from 'node:crypto';

export interface WebviewShellInput {
  /** webview.cspSource */
  cspSource: string;
  title: string;
  scriptUri: string;
  styleUris: string[];
  /** The initial body of `<main id="app">` (static markup only, never data); the page stays aria-busy until its script replaces it. */
  placeholder?: string;
  /** Extra image sources, e.g. `data:` for the sample thumbnails the trainer sends. */
  extraImageSources?: string[];
  nonce?: string;
}

export function createNonce(): string {
  return randomBytes(18).toString('base64url');
}

export function contentSecurityPolicy(cspSource: string, nonce: string, extraImageSources: string[] = []): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `img-src ${[cspSource, ...extraImageSources].join(' ')}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** Attribute-safe text; the inputs are URIs and a nonce we made, escaped anyway. */
function attribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function webviewShell(input: WebviewShellInput): string {
  const nonce = input.nonce ?? createNonce();
  const styles = input.styleUris.map((uri) => `<link rel="stylesheet" href="${attribute(uri)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attribute(contentSecurityPolicy(input.cspSource, nonce, input.extraImageSources))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${attribute(input.title)}</title>
</head>
<body>
<main id="app" aria-live="polite"${input.placeholder ? ' aria-busy="true"' : ''}>${input.placeholder ?? ''}</main>
<script nonce="${attribute(nonce)}" src="${attribute(input.scriptUri)}"></script>
</body>
</html>`;
}
