import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import type { HostMessage } from '../../../media/src/training-protocol';

// The Training view's front-end in a real browser (Debian's Chromium), under the same CSP as in VS Code,
// with a stand-in for the VS Code webview API that records what the page sends and stores.
const CHROMIUM = process.env.VIN_OCR_CHROMIUM ?? '/usr/bin/chromium';

async function buildPage(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vin-ocr-webview-'));
  await esbuild.build({
    entryPoints: { training: join(__dirname, '../../../media/src/training.ts') },
    outdir: dir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    logLevel: 'silent',
  });
  const nonce = 'dGVzdG5vbmNl';
  writeFileSync(
    join(dir, 'index.html'),
    `<!DOCTYPE html><html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src file:; img-src file: data:; script-src 'nonce-${nonce}'">
<link rel="stylesheet" href="training.css"><link rel="stylesheet" href="${join(__dirname, '../../../media/training.css')}">
</head><body><main id="app"></main>
<script nonce="${nonce}">
  window.sent = []; window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
  // Like VS Code, the stored state outlives a reload of the webview (window.name survives navigation).
  window.stored = window.name ? JSON.parse(window.name) : undefined;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.sent.push(m),
    getState: () => window.stored,
    setState: (s) => { window.stored = s; window.name = JSON.stringify(s); },
  });
</script>
<script nonce="${nonce}" src="training.js"></script></body></html>`,
  );
  return join(dir, 'index.html');
}

const run = {
  key: 1,
  label: 'baseline.yaml',
  status: 'running' as const,
  step: 40,
  totalSteps: 100,
  loss: 0.5,
  samplesPerSecond: 900,
  etaSeconds: 75,
  device: 'cuda',
  attention: 'sdpa',
  dtype: 'bf16',
  bestExactMatch: 0.5,
  lastExactMatch: 0.4,
};

async function post(page: Page, messages: HostMessage[]): Promise<void> {
  await page.evaluate((list) => list.forEach((message) => window.postMessage(message, '*')), messages);
}

describe('Training view front-end (Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    if (!existsSync(CHROMIUM)) this.skip();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
    });
    page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await page.goto(`file://${await buildPage()}`);
  });

  after(async () => browser?.close());

  it('asks the host for a snapshot and shows an empty state until a run exists', async () => {
    assert.deepEqual(await page.evaluate(() => (window as unknown as { sent: unknown[] }).sent), [{ type: 'ready' }]);
    assert.ok(await page.getByText('No training in this window yet', { exact: false }).isVisible());
  });

  it('shows the run, its numbers and sample reads with the wrong characters marked, as text only', async () => {
    await post(page, [
      {
        type: 'snapshot',
        runs: [{ ...run, label: '<img src=x onerror=alert(1)>.yaml' }],
        selected: 1,
        series: {
          loss: [
            [1, 2],
            [2, 1.5],
          ],
          lr: [[1, 0.002]],
          exactMatch: [[2, 0.4]],
          cer: [[2, 0.2]],
        },
        samples: [
          { truth: '1HGCM82633A004352', prediction: '1HGCM82633A0O4352', confidence: 0.8 },
          {
            truth: 'WVWZZZ1JZXW000001',
            prediction: 'WVWZZZ1JZXW000001',
            image: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
          },
        ],
      },
    ]);
    await page.locator('.stat .value', { hasText: '40 / 100' }).waitFor();
    assert.ok(await page.getByText('cuda · sdpa · bf16').isVisible());
    assert.equal(await page.locator('.sample.incorrect mark.wrong').count(), 1, 'one wrong character marked');
    assert.equal(await page.locator('.sample.incorrect mark.wrong').textContent(), 'O');
    assert.equal(await page.locator('.sample.correct').count(), 1);
    assert.equal(await page.locator('main img[src="x"]').count(), 0, 'markup in data stays text');
    assert.ok((await page.locator('.run-picker option').first().textContent())!.includes('<img src=x'));
    assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
  });

  it('keeps up with 1,000 events a second: a burst is drawn on the next frame and saved in state', async () => {
    const burst = Array.from(
      { length: 1000 },
      (_, index) =>
        ({ type: 'points', key: 1, points: { loss: [[100 + index, 1 / (index + 1)]], lr: [], exactMatch: [], cer: [] } }) as HostMessage,
    );
    const elapsed = await page.evaluate(async (messages) => {
      const started = performance.now();
      for (const message of messages) window.postMessage(message, '*');
      // Messages are delivered as tasks; wait until they are handled and one frame has been drawn.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      return performance.now() - started;
    }, burst);
    if (process.env.VIN_OCR_VERBOSE) console.log(`    1,000 point messages → drawn frame: ${elapsed.toFixed(1)} ms`);
    assert.ok(elapsed < 250, `a second's worth of events took ${elapsed.toFixed(0)} ms to reach the screen`);
    const stored = await page.evaluate(() => (window as unknown as { stored: { series: { loss: unknown[] } } }).stored);
    assert.equal(stored.series.loss.length, 1002);
  });

  it('after a window reload shows the last run from saved state, no longer as running', async () => {
    await page.reload();
    assert.equal(
      await page.evaluate(() => (window as unknown as { stored?: { runs: unknown[] } }).stored?.runs.length),
      1,
      'state survived the reload',
    );
    await page.evaluate(() =>
      window.postMessage(
        { type: 'snapshot', runs: [], selected: null, series: { loss: [], lr: [], exactMatch: [], cer: [] }, samples: [] },
        '*',
      ),
    );
    await page.locator('.status', { hasText: 'cancelled' }).waitFor();
    assert.ok(await page.locator('.stat .value', { hasText: '40 / 100' }).isVisible());
    assert.equal(await page.locator('.sample').count(), 2, 'the sample reads are kept too');
    // The live view comes back as soon as a run starts again.
    await post(page, [{ type: 'snapshot', runs: [run], selected: 1, series: { loss: [], lr: [], exactMatch: [], cer: [] }, samples: [] }]);
    await page.locator('.status', { hasText: 'running' }).waitFor();
  });

  it('is usable from the keyboard: the buttons and the run picker take focus', async () => {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.tagName);
    assert.ok(['SELECT', 'BUTTON'].includes(focused ?? ''), `focus went to ${focused}`);
    await page.locator('button', { hasText: 'Cancel' }).focus();
    await page.keyboard.press('Enter');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { sent: unknown[] }).sent.at(-1)), { type: 'cancel', key: 1 });
  });

  it('shows progress against the binding budget: a 10-minute run is not at step 111 of 100000', async () => {
    const timeBound = {
      ...run,
      step: 111,
      totalSteps: 100000,
      progress: { budget: 'time' as const, fraction: 0.42, step: 111, totalSteps: 100000, elapsedSeconds: 252, limitSeconds: 600 },
    };
    await post(page, [
      { type: 'snapshot', runs: [timeBound], selected: 1, series: { loss: [], lr: [], exactMatch: [], cer: [] }, samples: [] },
    ]);
    await page.locator('.stat .value', { hasText: '42% · 4:12 of 10:00' }).waitFor();
    assert.equal(await page.locator('.stat .value', { hasText: '100000' }).count(), 0, 'the step cap is not shown as a total');
    assert.equal(await page.locator('progress').evaluate((bar) => (bar as HTMLProgressElement).value), 0.42);
  });
});
