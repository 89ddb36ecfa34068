// `npm run test:integration`: the integration suites inside a real VS Code, in the two versions we support:
// our minimum engines.vscode (code-server 4.100.3 = VS Code 1.100.3, Node 20) and the current release
// (code-server 4.139.1 = VS Code 1.139.1, Node 24), driven by Debian's Chromium. Per version: the suites, then
// what a person sees (badge, F1 → panel, tree, themes, warm start from cache), then the Restricted Mode suites
// with workspace trust on. Then, in the current version, a new user's first run (new-user.mjs). Installs what it
// needs on first use (into .vscode-test/) and always stops every process it started.
//
//   node test/e2e/run-code-server.mjs [--vscode VERSION]… [--trust] [--grep PATTERN] [--skip-ui] [--new-user] [--keep]
//     --vscode    run only in this VS Code version (1.100.3 or 1.139.1; repeatable). Default: both
//     --trust     only the suites, with workspace trust on: the test workspace opens untrusted (Restricted Mode)
//     --grep      only the suites/tests whose title matches (mocha grep), no Restricted Mode pass
//     --skip-ui   no UI checks
//     --new-user  only the new-user scenario (in the current VS Code unless --vscode says otherwise)
//     --keep      keep the temporary profiles, workspaces and logs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, parseArgs } from 'node:util';
import { CURRENT_VSCODE, MINIMUM_VSCODE, VSCODE_VERSIONS } from './code-server-install.mjs';
import { runNewUser } from './new-user.mjs';
import {
  checker,
  closeAllSessions,
  copyWorkspace,
  openSession,
  repoRoot,
  runFromCommandPalette,
  quickPickRow,
  step,
  UI_TIMEOUT_MS,
  visibleFrameTitled,
  withTimeout,
} from './workbench.mjs';

const fixtureWorkspace = join(repoRoot, 'test', 'fixtures', 'workspace');
/** SkyPilot's `sky`, replayed from recordings (test/fixtures/sky/README.md), for the cloud suite. */
const skyStandIn = join(repoRoot, 'test', 'fixtures', 'sky', 'sky-standin.mjs');
/** PaddleOCR's own environment (scripts/setup-paddle.sh, run by `npm run test:python`); the PaddleOCR suite says NOT RUN without it. */
const paddlePython = join(repoRoot, '.paddle-venv', 'bin', 'python');
/** DeepSeek-OCR's own environment (scripts/setup-deepseek.sh); the DeepSeek-OCR suite says NOT RUN without it. */
const deepseekPython = join(repoRoot, '.deepseek-venv', 'bin', 'python');
const SUITE_TIMEOUT_MS = 8 * 60_000;
const WHOLE_PASS_TIMEOUT_MS = 14 * 60_000;

const { values: options } = parseArgs({
  options: {
    vscode: { type: 'string', multiple: true },
    trust: { type: 'boolean', default: false },
    grep: { type: 'string' },
    'skip-ui': { type: 'boolean', default: false },
    'new-user': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const versions = options.vscode ?? (options['new-user'] ? [CURRENT_VSCODE] : [MINIMUM_VSCODE, CURRENT_VSCODE]);
for (const version of versions) {
  if (!VSCODE_VERSIONS[version]) throw new Error(`--vscode ${version}: known versions are ${Object.keys(VSCODE_VERSIONS).join(', ')}`);
}

/** What to run: one pass is one code-server session. */
function plan() {
  if (options['new-user']) return versions.map((version) => ({ kind: 'new-user', version }));
  const narrowed = options.trust || options.grep !== undefined;
  const passes = [];
  for (const version of versions) {
    passes.push({ kind: 'suites', version, trust: options.trust, grep: options.grep, ui: !options['skip-ui'] && !options.trust });
    if (!narrowed) passes.push({ kind: 'suites', version, trust: true, grep: 'Restricted Mode', ui: false });
  }
  if (!narrowed && versions.includes(CURRENT_VSCODE)) passes.push({ kind: 'new-user', version: CURRENT_VSCODE });
  return passes;
}

// This run's suites: inside the repo (so they find mocha in node_modules), apart from any other run's.
const suitesDir = join(repoRoot, 'dist-test', `run-${process.pid}`);

function build() {
  rmSync(suitesDir, { recursive: true, force: true });
  const result = spawnSync(process.execPath, ['esbuild.mjs', `--integration-tests=${suitesDir}`], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('the build failed');
}

/** The Debian packages the tests need (Chromium, libkrb5-dev, ripgrep …): installed when missing, as `npm test` does first. */
function systemPackages() {
  const setup = spawnSync('bash', [join(repoRoot, 'scripts', 'setup-system.sh')], { cwd: repoRoot, stdio: 'inherit' });
  if (setup.status !== 0) throw new Error('scripts/setup-system.sh failed: see above for the command that installs what is missing');
}

/** The repo's trainer environment (torch CPU): the suites' interpreter, always set, so no suite depends on luck. */
function trainerPython() {
  const python = join(repoRoot, '.venv', 'bin', 'python');
  const setup = spawnSync('bash', [join(repoRoot, 'scripts', 'setup-python.sh')], { cwd: repoRoot, stdio: 'inherit' });
  if (setup.status !== 0 || !existsSync(python))
    throw new Error('scripts/setup-python.sh failed: the suites need the trainer environment in .venv');
  return python;
}

/** Activation figures the suites' first test appended, one JSON line per window (cold, then warm). */
function activationFigures(metricsFile) {
  if (!existsSync(metricsFile)) return [];
  return readFileSync(metricsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** The mocha suites inside the extension host (one window); resolves with their exit code and counts. */
async function runSuites(session, grepFile, grep) {
  writeFileSync(grepFile, grep ?? '');
  const page = await session.context.newPage();
  let resolveExit;
  const exited = new Promise((resolveCode) => (resolveExit = resolveCode));
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  const counts = { passing: 0, failing: 0, pending: 0 };
  // The extension host's console (mocha's reporter) is forwarded to the page console.
  // Messages arrive as console.log(format, ...args) with %c styling: format them as Node would, minus the CSS.
  page.on('console', async (message) => {
    const args = await Promise.all(message.args().map((arg) => arg.jsonValue().catch(() => String(arg))));
    const text = (args.length > 0 ? format(...args) : message.text()).replace(/color: ?[^;]*;?/g, '').trim();
    const line = /(✔ |✘ |\d+ passing, ).*|- .* \(pending\)$/s.exec(text);
    if (!line) return;
    console.log(`  ${line[0]}`);
    const summary = /(\d+) passing, (\d+) failing, (\d+) pending/.exec(line[0]);
    if (summary) Object.assign(counts, { passing: Number(summary[1]), failing: Number(summary[2]), pending: Number(summary[3]) });
  });
  await page.goto(session.url(join(suitesDir, 'index.js')));
  const code = await withTimeout(exited, SUITE_TIMEOUT_MS, 'the integration suites');
  await page.close();
  return { code, counts };
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
    for (const [r, g, b, a] of layers.reverse())
      colour = [r * a + colour[0] * (1 - a), g * a + colour[1] * (1 - a), b * a + colour[2] * (1 - a)];
    return `rgb(${colour.map(Math.round).join(', ')})`;
  };
  let worst = { ratio: Infinity };
  for (const selector of [
    'h1',
    'dd',
    'dt',
    '.muted',
    'table.models th',
    'table.models td',
    '.fit',
    'button',
    'button.copy',
    '.command code',
    'summary',
  ]) {
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

/** What a person sees. Returns a list of failed checks (empty = all passed). */
async function runUiChecks(session) {
  let page;
  const { check, failures } = checker(() => page, join(repoRoot, '.vscode-test', 'ui-failures', session.vscodeVersion));
  page = await session.context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(session.url());
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
    await panel
      .locator('table.models tbody tr')
      .first()
      .waitFor()
      .catch(() => {});
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
    await page
      .locator('.monaco-list-row', { hasText: /Platform: (cuda|mps|cpu)/ })
      .first()
      .waitFor();
    await page.locator('.monaco-list-row', { hasText: 'Models' }).first().waitFor();
  });

  await check('after a reload the badge shows the cached machine at once (warm start)', async () => {
    await page.reload();
    await page.locator('[aria-label^="VIN OCR hardware: trains on"]').first().waitFor();
  });
  await page.close();
  return failures;
}

/** One code-server session running the suites (and, for the default pass, the UI checks and a warm start). */
async function suitesPass(pass, python) {
  const label = `VS Code ${pass.version}${pass.trust ? ', workspace trust on' : ''}${pass.grep ? `, grep "${pass.grep}"` : ''}`;
  step(`code-server ${VSCODE_VERSIONS[pass.version].codeServer} (${label})`);
  // A fresh copy of the fixture workspace per pass: runs, settings and files the suites write never carry over.
  const scratch = mkdtempSync(join(tmpdir(), 'vin-ocr-workspace-'));
  const workspace = copyWorkspace(fixtureWorkspace, join(scratch, 'workspace'));
  const metricsFile = join(scratch, 'activation-metrics.jsonl');
  const grepFile = join(scratch, 'test-grep.txt');
  const result = { name: label, ok: false, counts: undefined, uiFailures: [], seconds: 0 };
  const started = Date.now();
  let session;
  try {
    session = await openSession({
      vscodeVersion: pass.version,
      workspace,
      trust: pass.trust,
      keep: options.keep,
      // The user's own setting, where a user puts it (User settings.json); the hardware suite checks it arrived.
      // The cloud suite's `sky` is the stand-in: a machine-scoped setting, which remote windows (1.139) read from
      // the machine's settings and 1.100 also from the user's. PaddleOCR's environment (scripts/setup-paddle.sh) is
      // found the same way, through its machine-scoped setting, and so is DeepSeek-OCR's (scripts/setup-deepseek.sh).
      settings: {
        'vinOcr.pythonPath': python,
        'vinOcr.cloud.skyPath': skyStandIn,
        'vinOcr.paddleocr.pythonPath': paddlePython,
        'vinOcr.deepseekOcr.pythonPath': deepseekPython,
      },
      machineSettings: {
        'vinOcr.cloud.skyPath': skyStandIn,
        'vinOcr.paddleocr.pythonPath': paddlePython,
        'vinOcr.deepseekOcr.pythonPath': deepseekPython,
      },
      env: {
        VIN_OCR_METRICS_FILE: metricsFile,
        VIN_OCR_TEST_GREP_FILE: grepFile,
        VIN_OCR_TEST_PYTHON: python,
        VIN_OCR_TEST_VSCODE: pass.version,
      },
    });
    await withTimeout(
      (async () => {
        step(`integration suites inside the extension host (VS Code ${pass.version})`);
        const suites = await runSuites(session, grepFile, pass.grep);
        result.counts = suites.counts;
        console.log(`  suites exited with ${suites.code}`);
        let warmCode = 0;
        if (pass.ui) {
          step(`UI checks in the workbench (VS Code ${pass.version})`);
          result.uiFailures = await runUiChecks(session);
          // A second window finds the snapshot the first cached in globalState: the warm-start figures.
          step('warm start: a new window activates from the cached snapshot');
          warmCode = (await runSuites(session, grepFile, 'activates quickly')).code;
          if (warmCode !== 0) console.log(`  the warm-start window exited with ${warmCode}`);
        }
        result.ok = suites.code === 0 && warmCode === 0 && result.uiFailures.length === 0;
      })(),
      WHOLE_PASS_TIMEOUT_MS,
      `the integration pass (${label})`,
    );
  } catch (error) {
    console.error(`\n✘ ${error instanceof Error ? error.message : error}`);
    if (session) console.error(`  code-server log (last lines):\n${session.serverLogTail()}`);
    result.ok = false;
  } finally {
    step('stopping every process started');
    await session?.close();
  }
  result.seconds = (Date.now() - started) / 1000;

  const figures = activationFigures(metricsFile);
  if (options.keep) console.log(`  kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
  if (figures.length > 0 && !pass.trust) {
    const cold = figures.find((figure) => figure.badgeFromCacheMs == null) ?? figures[0];
    const warm = [...figures].reverse().find((figure) => figure.badgeFromCacheMs != null);
    const metrics = {
      at: new Date().toISOString(),
      vscode: `${pass.version} (code-server ${VSCODE_VERSIONS[pass.version].codeServer})`,
      activations: figures,
      cold,
      warm,
    };
    mkdirSync(join(repoRoot, '.vscode-test', 'metrics'), { recursive: true });
    writeFileSync(join(repoRoot, '.vscode-test', 'metrics', `activation-${pass.version}.json`), JSON.stringify(metrics, null, 2));
    // bench/activation.bench.ts reads activation.json: the first version of the run (our minimum by default).
    if (pass.version === versions[0])
      writeFileSync(join(repoRoot, '.vscode-test', 'metrics', 'activation.json'), JSON.stringify(metrics, null, 2));
    const perFeature = (figure) =>
      Object.entries(figure.featureMs ?? {})
        .map(([name, ms]) => `${name} ${ms}`)
        .join(', ');
    console.log(
      `\nactivate() in VS Code ${pass.version}: ` +
        figures.map((figure) => `${figure.activateMs.toFixed(2)} ms (${perFeature(figure)})`).join('; ') +
        (warm ? `; warm start: badge from cache ${warm.badgeFromCacheMs.toFixed(2)} ms after activate began` : ''),
    );
  }
  return result;
}

async function main() {
  const started = Date.now();
  const passes = plan();
  step('system packages, the trainer environment (.venv) and the build (extension, webview, integration suites)');
  systemPackages();
  const python = trainerPython();
  build();
  const results = [];
  const onSignal = async () => {
    await closeAllSessions();
    rmSync(suitesDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const pass of passes) {
      if (pass.kind === 'new-user') {
        const passStarted = Date.now();
        const outcome = await runNewUser({ vscodeVersion: pass.version, keep: options.keep });
        results.push({
          name: `VS Code ${pass.version}, new user (first run)`,
          ok: outcome.ok,
          uiFailures: outcome.failures,
          seconds: (Date.now() - passStarted) / 1000,
          note: outcome.note,
        });
      } else {
        results.push(await suitesPass(pass, python));
      }
    }
  } finally {
    rmSync(suitesDir, { recursive: true, force: true });
  }

  console.log('\nSummary');
  for (const result of results) {
    const counts = result.counts
      ? ` ${result.counts.passing} passing, ${result.counts.failing} failing, ${result.counts.pending} pending;`
      : '';
    const ui = result.uiFailures?.length ? ` failed checks: ${result.uiFailures.join('; ')};` : '';
    console.log(
      `  ${result.ok ? '✔' : '✘'} ${result.name}:${counts}${ui}${result.note ? ` ${result.note};` : ''} ${result.seconds.toFixed(0)} s`,
    );
  }
  const ok = results.length === passes.length && results.every((result) => result.ok);
  const where = versions.map((version) => `VS Code ${version}`).join(', ');
  console.log(`\n${ok ? '✔' : '✘'} integration (${where}) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
