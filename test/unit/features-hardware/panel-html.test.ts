import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isWebviewMessage } from '../../../media/src/protocol';
import { contentSecurityPolicy, createNonce, panelHtml } from '../../../src/features/hardware/panel-html';

const input = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  scriptUri: 'https://x/dist/webview/hardware.js',
  styleUri: 'https://x/media/hardware.css',
};

describe('hardware panel HTML and messages', () => {
  it("allows only scripts carrying this load's nonce, and nothing from elsewhere", () => {
    const csp = contentSecurityPolicy(input.cspSource, 'abc123');
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, /script-src 'nonce-abc123'$/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });

  it('puts the same nonce on the one script tag and in the policy', () => {
    const html = panelHtml({ ...input, nonce: 'n0nce' });
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="[^"]*'nonce-n0nce'/);
    assert.match(html, /<script nonce="n0nce" src="https:\/\/x\/dist\/webview\/hardware.js"><\/script>/);
    assert.equal(html.match(/<script/g)?.length, 1, 'no inline script');
  });

  it('makes a fresh unguessable nonce for every load', () => {
    const nonces = new Set(Array.from({ length: 50 }, createNonce));
    assert.equal(nonces.size, 50);
    for (const nonce of nonces) assert.match(nonce, /^[A-Za-z0-9_-]{24}$/);
  });

  it('accepts only well-formed messages from the webview', () => {
    assert.ok(isWebviewMessage({ type: 'checkAgainst', targetId: 'g5.xlarge' }));
    assert.ok(isWebviewMessage({ type: 'ready', targetId: null }));
    assert.ok(!isWebviewMessage({ type: 'checkAgainst' }));
    assert.ok(isWebviewMessage({ type: 'trainOnCloud', instanceId: 'a2-highgpu-1g' }));
    assert.ok(!isWebviewMessage({ type: 'trainOnCloud', instanceId: 42 }));
    assert.ok(!isWebviewMessage({ type: 'copy', text: 'x'.repeat(20_000) }));
    assert.ok(!isWebviewMessage({ type: 'runShell', command: 'rm -rf /' }));
    assert.ok(!isWebviewMessage('refresh'));
    assert.ok(!isWebviewMessage(null));
  });

  it('never turns data into markup in the webview code (textContent only)', () => {
    const dir = 'media/src';
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/, `${file} builds markup from strings`);
    }
  });
});
