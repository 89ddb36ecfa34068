// `npm run test:integration`: runs the integration suites inside a real VS Code (code-server 4.100.3 =
// VS Code 1.100.3, driven by Debian's Chromium), then checks what a person sees (badge, F1 → panel, tree,
// warm start from cache). Sets itself up on a fresh machine and always stops every process it started.
//
//   node test/e2e/run-code-server.mjs [--trust] [--grep PATTERN] [--skip-ui] [--keep]
//     --trust    workspace trust on: the test workspace opens untrusted (Restricted Mode)
//     --grep     run only the suites/tests whose title matches (mocha grep)
//     --skip-ui  suites only, no UI checks
//     --keep     keep the temporary profile and logs
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, parseArgs } from 'node:util';
import { ensureCodeServer } from './code-server-install.mjs';
import { descendantsOf, stopProcesses } from './processes.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const workspace = join(repoRoot, 'test', 'fixtures', 'workspace');
const CHROMIUM = process.env.VIN_OCR_CHROMIUM ?? '/usr/bin/chromium';
const SUITE_TIMEOUT_MS = 5 * 60_000;
const UI_TIMEOUT_MS = 60_000;
const WHOLE_RUN_TIMEOUT_MS = 12 * 60_000;

const { values: options } = parseArgs({
  options: {
    trust: { type: 'boolean', default: false },
    grep: { type: 'string' },
    'skip-ui': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

function step(message) {
  console.log(`\n▶ ${message}`);
}

// This run's suites: inside the repo (so they find mocha in node_modules), apart from any other run's.
const suitesDir = join(repoRoot, 'dist-test', `run-${process.pid}`);

function build() {
  rmSync(suitesDir, { recursive: true, force: true });
  const result = spawnSync(process.execPath, ['esbuild.mjs', `--integration-tests=${suitesDir}`], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the build failed');
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForHealth(base, child, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited early with ${child.exitCode}`);
    try {
      const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
  throw new Error(`code-server did not answer /healthz within ${timeoutMs / 1000} s`);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms);
    }),
  ]);
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Activation figures the suites' first test appended, one JSON line per window (cold, then warm). */
function activationFigures(metricsFile) {
  if (!existsSync(metricsFile)) return [];
  return readFileSync(metricsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

function workbenchUrl(base, port, withTests) {
  const remote = (path) => `vscode-remote://127.0.0.1:${port}${path}`;
  const payload = [['extensionDevelopmentPath', remote(repoRoot)]];
  if (withTests) payload.push(['extensionTestsPath', remote(join(suitesDir, 'index.js'))]);
  return `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** The mocha suites inside the extension host (one window); resolves with their exit code. */
async function runSuites(context, base, port, grepFile, grep) {
  writeFileSync(grepFile, grep ?? '');
  const page = await context.newPage();
  let resolveExit;
  const exited = new Promise((resolveCode) => (resolveExit = resolveCode));
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  // The extension host's console (mocha's reporter) is forwarded to the page console.
  // Messages arrive as console.log(format, ...args) with %c styling: format them as Node would, minus the CSS.
  page.on('console', async (message) => {
    const args = await Promise.all(message.args().map((arg) => arg.jsonValue().catch(() => String(arg))));
    const text = (args.length > 0 ? format(...args) : message.text()).replace(/color: ?[^;]*;?/g, '').trim();
    const line = /(✔ |✘ |\d+ passing, ).*|- .* \(pending\)$/s.exec(text);
    if (line) console.log(`  ${line[0]}`);
  });
  await page.goto(workbenchUrl(base, port, true));
  const code = await withTimeout(exited, SUITE_TIMEOUT_MS, 'the integration suites');
  await page.close();
  return code;
}

/**
 * Runs inside the webview: the lowest text/background contrast among the panel's kinds of text
 * (WCAG relative luminance; a transparent background falls back to the page's).
 */
function contrastReport(body) {
  const parse = (colour) => (colour.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (channel) => ((channel /= 255) <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4);
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  // The colour behind an element: its own and its ancestors' backgrounds composited (code blocks are translucent).
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const [r, g, b, a = 1] = parse(getComputedStyle(node).backgroundColor);
      if (a > 0) layers.push([r, g, b, a]);
      if (a >= 1) break;
    }
    let colour = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) colour = [r * a + colour[0] * (1 - a), g * a + colour[1] * (1 - a), b * a + colour[2] * (1 - a)];
    return `rgb(${colour.map(Math.round).join(', ')})`;
  };
  let worst = { ratio: Infinity };
  for (const selector of ['h1', 'dd', 'dt', '.muted', 'table.models th', 'table.models td', '.fit', 'button', 'button.copy', '.command code', 'summary']) {
    const element = body.querySelector(selector);
    if (!element) continue;
    const fg = getComputedStyle(element).color;
    const bg = background(element);
    const [lighter, darker] = [luminance(parse(fg)), luminance(parse(bg))].sort((a, b) => b - a);
    const ratio = (lighter + 0.05) / (darker + 0.05);
    if (ratio < worst.ratio) worst = { selector, ratio, fg, bg };
  }
  return worst;
}

/** The quick-pick row whose label is exactly `label` (fuzzy matching lists look-alikes above it). */
function quickPickRow(page, label) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByRole('option', { name: new RegExp(`^${escaped}(,|$)`) }).first();
}

/** F1, type the command's title, pick it — as a person would. */
async function runFromCommandPalette(page, title) {
  // Keys typed while a webview has focus stay in its iframe: give the focus back to the workbench first.
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor();
  await page.keyboard.type(title);
  await quickPickRow(page, title).click();
}

/**
 * The visible webview document with this <title>. Other features' webviews (the Training view) live in the
 * page too, so "the webview iframe" is ambiguous; the title is ours.
 */
async function visibleFrameTitled(page, title, timeoutMs = UI_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (frame.isDetached() || (await frame.title().catch(() => '')) !== title) continue;
      const outer = await frame.parentFrame()?.frameElement().catch(() => undefined);
      if (!outer || (await outer.isVisible())) return frame;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no visible webview titled "${title}" within ${timeoutMs / 1000} s`);
}

/** Phase 2: what a person sees. Returns a list of failed checks (empty = all passed). */
async function runUiChecks(context, base, port) {
  const failures = [];
  const screenshots = join(repoRoot, '.vscode-test', 'ui-failures');
  rmSync(screenshots, { recursive: true, force: true });
  let page;
  const check = async (name, body) => {
    const started = Date.now();
    try {
      await body();
      console.log(`  ✔ ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failures.push(name);
      console.log(`  ✘ ${name}: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
      // What the page looked like when the check failed, for whoever reads the CI log.
      mkdirSync(screenshots, { recursive: true });
      const file = join(screenshots, `${failures.length}-${name.replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
      await page.screenshot({ path: file }).then(() => console.log(`    screenshot: ${file}`), () => {});
    }
  };
  page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(workbenchUrl(base, port, false));
  // The badge's accessible name says "trains on …" once a snapshot exists and drops "Probing" when done.
  const settledBadge = page.locator('[aria-label^="VIN OCR hardware: trains on"]:not([aria-label*="Probing"])');

  await check('the status-bar badge shows the platform', async () => {
    await settledBadge.first().waitFor();
    const text = (await settledBadge.first().innerText()).trim();
    if (!/^(CUDA|MPS|CPU)( · .+)? · (FA2|SDPA|eager)$/.test(text)) throw new Error(`unexpected badge text "${text}"`);
    console.log(`    badge: "${text}"`);
  });

  let panel; // the hardware panel's document (a frame inside the webview's iframe), once open
  await check('F1 → "VIN OCR: Show Hardware" opens the panel with the machine', async () => {
    await runFromCommandPalette(page, 'VIN OCR: Show Hardware');
    panel = await visibleFrameTitled(page, 'VIN OCR: Hardware');
    await panel.locator('h1', { hasText: 'VIN OCR: Hardware' }).waitFor();
    // The heading is drawn at once; the machine arrives one message round trip later.
    await panel.locator('table.models tbody tr').first().waitFor().catch(() => {});
    const rows = await panel.locator('table.models tbody tr').count();
    if (rows < 4) throw new Error(`the model table has ${rows} rows`);
    const machine = await panel.locator('section[aria-labelledby="machine"]').innerText();
    if (!/CPU/.test(machine) || !/RAM/.test(machine)) throw new Error(`the machine section lacks CPU/RAM: ${machine.slice(0, 200)}`);
  });

  await check('"Check against" evaluates a cloud instance as a hypothetical machine', async () => {
    await panel.locator('select#target').selectOption('g5.xlarge');
    await panel.locator('.banner', { hasText: 'hypothetical' }).waitFor();
    const decision = await panel.locator('section[aria-labelledby="decisions"]').innerText();
    if (!/cuda/.test(decision)) throw new Error(`g5.xlarge (A10G) should train on cuda: ${decision.slice(0, 200)}`);
    await panel.locator('select#target').selectOption('this-machine');
    await panel.locator('.banner').waitFor({ state: 'detached' });
  });

  // Switched with "Preferences: Color Theme", as a person would; the workbench's class tells when it applied.
  const themes = { 'Dark High Contrast': 'hc-black', 'Light High Contrast': 'hc-light', 'Dark Modern': 'vs-dark', 'Light Modern': 'vs' };
  for (const [theme, workbenchClass] of Object.entries(themes)) {
    await check(`the panel is readable in the "${theme}" theme (WCAG AA contrast)`, async () => {
      page.setDefaultTimeout(15_000);
      await runFromCommandPalette(page, 'Preferences: Color Theme');
      await page.keyboard.type(theme);
      await quickPickRow(page, theme).click();
      await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor();
      await page.waitForTimeout(500); // the webview receives the new theme variables by message
      const worst = await panel.locator('body').evaluate(contrastReport);
      console.log(`    lowest contrast: ${worst.ratio.toFixed(2)}:1 ("${worst.selector}")`);
      if (worst.ratio < 4.5) throw new Error(`"${worst.selector}" has contrast ${worst.ratio.toFixed(2)}:1 (${worst.fg} on ${worst.bg})`);
    });
  }
  page.setDefaultTimeout(UI_TIMEOUT_MS);

  await check('the VIN OCR activity-bar container shows a filled Hardware tree', async () => {
    // Clicking the icon of the container already shown would hide it; the generated focus command always shows it.
    await runFromCommandPalette(page, 'VIN OCR: Focus on Hardware View');
    await page.locator('.monaco-list-row', { hasText: /Platform: (cuda|mps|cpu)/ }).first().waitFor();
    await page.locator('.monaco-list-row', { hasText: 'Models' }).first().waitFor();
  });

  await check('after a reload the badge shows the cached machine at once (warm start)', async () => {
    await page.reload();
    await page.locator('[aria-label^="VIN OCR hardware: trains on"]').first().waitFor();
  });
  await page.close();
  return failures;
}

async function main() {
  const started = Date.now();
  step('code-server');
  const codeServerDir = ensureCodeServer(repoRoot);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium), or set VIN_OCR_CHROMIUM`);
  step('build (extension, webview, integration suites)');
  build();

  const temp = mkdtempSync(join(tmpdir(), 'vin-ocr-it-'));
  const dirs = Object.fromEntries(['user-data', 'extensions', 'xdg-config', 'xdg-data', 'browser'].map((name) => [name, join(temp, name)]));
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  mkdirSync(join(dirs['user-data'], 'User'), { recursive: true });
  const venvPython = join(repoRoot, '.venv', 'bin', 'python');
  const settings = {
    'security.workspace.trust.enabled': options.trust,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    // The repo's .venv (torch CPU) makes the probe's answer known; without it the resolver's own order applies.
    ...(existsSync(venvPython) ? { 'vinOcr.pythonPath': venvPython } : {}),
  };
  const settingsFile = join(dirs['user-data'], 'User', 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  const configFile = join(temp, 'config.yaml');
  writeFileSync(configFile, 'auth: none\n');
  const metricsFile = join(temp, 'activation-metrics.jsonl');
  const grepFile = join(temp, 'test-grep.txt');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serverLog = join(temp, 'code-server.log');
  const logFd = openSync(serverLog, 'a');
  const args = [
    '--config', configFile, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
    '--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions,
    '--enable-smoke-test-driver',
    ...(options.trust ? [] : ['--disable-workspace-trust']),
    workspace,
  ];
  let server;
  let context;
  const cleanup = async () => {
    // Record the whole tree first (code-server, its extension host and the probe's Python, Chromium), then stop it.
    const tree = descendantsOf(process.pid);
    await context?.close().catch(() => {});
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM'); // its process group
      } catch {
        /* already gone */
      }
    }
    const stubborn = await stopProcesses([...tree, ...descendantsOf(process.pid)]);
    if (stubborn.length > 0) console.log(`  (needed SIGKILL: ${stubborn.join(', ')})`);
  };
  const removeTemp = () => {
    if (options.keep) console.log(`  kept ${temp}`);
    else rmSync(temp, { recursive: true, force: true });
    rmSync(suitesDir, { recursive: true, force: true });
  };
  const onSignal = async () => {
    await cleanup();
    removeTemp();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let suiteCode = 1;
  let warmCode = 1;
  let uiFailures = [];
  let figures = [];
  try {
    step(`code-server on ${base} (workspace trust ${options.trust ? 'on' : 'off'})`);
    const launcher = join(repoRoot, 'test', 'e2e', 'code-server-launcher.cjs');
    server = spawn(process.execPath, [launcher, codeServerDir, ...args], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: {
        ...process.env,
        XDG_CONFIG_HOME: dirs['xdg-config'],
        XDG_DATA_HOME: dirs['xdg-data'],
        VIN_OCR_METRICS_FILE: metricsFile,
        VIN_OCR_TEST_GREP_FILE: grepFile,
      },
    });
    await waitForHealth(base, server);

    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(dirs.browser, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });

    await withTimeout(
      (async () => {
        step('integration suites inside the extension host');
        suiteCode = await runSuites(context, base, port, grepFile, options.grep);
        console.log(`  suites exited with ${suiteCode}`);
        if (!options['skip-ui']) {
          step('UI checks in the workbench');
          uiFailures = await runUiChecks(context, base, port);
        }
        // A second window finds the snapshot the first cached in globalState: the warm-start figures.
        step('warm start: a new window activates from the cached snapshot');
        warmCode = await runSuites(context, base, port, grepFile, 'activates quickly');
        if (warmCode !== 0) console.log(`  the warm-start window exited with ${warmCode}`);
      })(),
      WHOLE_RUN_TIMEOUT_MS,
      'the whole integration run',
    );
  } catch (error) {
    console.error(`\n✘ ${error instanceof Error ? error.message : error}`);
    console.error(`  code-server log (last lines):\n${readFileSync(serverLog, 'utf8').split('\n').slice(-20).join('\n')}`);
    suiteCode = suiteCode || 1;
    if (uiFailures.length === 0 && !options['skip-ui']) uiFailures.push('run aborted');
  } finally {
    step('stopping every process started');
    await cleanup();
    figures = activationFigures(metricsFile);
    removeTemp();
  }

  if (figures.length > 0) {
    const cold = figures.find((figure) => figure.badgeFromCacheMs == null) ?? figures[0];
    const warm = [...figures].reverse().find((figure) => figure.badgeFromCacheMs != null);
    const metrics = { at: new Date().toISOString(), vscode: '1.100.3 (code-server 4.100.3)', activations: figures, cold, warm };
    mkdirSync(join(repoRoot, '.vscode-test', 'metrics'), { recursive: true });
    writeFileSync(join(repoRoot, '.vscode-test', 'metrics', 'activation.json'), JSON.stringify(metrics, null, 2));
    const perFeature = (figure) => Object.entries(figure.featureMs ?? {}).map(([name, ms]) => `${name} ${ms}`).join(', ');
    console.log(`\nactivate(): ${figures.map((figure) => `${figure.activateMs.toFixed(2)} ms (${perFeature(figure)})`).join('; ')}` +
      (warm ? `; warm start: badge from cache ${warm.badgeFromCacheMs.toFixed(2)} ms after activate began` : ''));
  }
  const ok = suiteCode === 0 && warmCode === 0 && uiFailures.length === 0;
  console.log(`\n${ok ? '✔' : '✘'} integration: suites ${suiteCode === 0 ? 'passed' : `failed (${suiteCode})`}` +
    `${options['skip-ui'] ? '' : `, UI checks ${uiFailures.length === 0 ? 'passed' : `failed: ${uiFailures.join('; ')}`}`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
