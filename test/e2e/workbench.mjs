// A real VS Code for the tests: code-server (one of the versions in code-server-install.mjs) on a free port with
// a throw-away profile, driven by Debian's Chromium through playwright-core. Shared by run-code-server.mjs (the
// integration suites and UI checks) and new-user.mjs (the first-run scenario). A session stops every process
// it started, and removes its temporary folder, when closed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCodeServer } from './code-server-install.mjs';
import { descendantsOf, stopProcesses } from './processes.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.VIN_OCR_CHROMIUM ?? '/usr/bin/chromium';
export const UI_TIMEOUT_MS = 60_000;

const liveSessions = new Set();

/** Closes every open session (on Ctrl+C or SIGTERM: nothing a test started may outlive the runner). */
export async function closeAllSessions() {
  await Promise.all([...liveSessions].map((session) => session.close()));
}

export function step(message) {
  console.log(`\n▶ ${message}`);
}

export function freePort() {
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

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms);
    }),
  ]);
}

/** A copy of a workspace folder without what earlier runs left in it (runs/, .vscode/), so every session starts alike. */
export function copyWorkspace(from, to) {
  cpSync(from, to, { recursive: true, filter: (source) => !/[/\\](runs|\.vscode|__pycache__)$/.test(source) });
  return to;
}

/**
 * Starts code-server for `vscodeVersion` on `workspace` and a headless Chromium. `settings` go to the profile's
 * User/settings.json, `machineSettings` to Machine/settings.json (the settings of the machine the extension host
 * runs on); `env` is added to the server's (and so the extension host's) environment. `testDriver: false` leaves
 * out the smoke-test driver (no extension tests from the URL, but notifications show as toasts in every version);
 * without it the extension under test must be installed: `vsix` installs it, as a user would, before the start.
 */
export async function openSession({
  vscodeVersion,
  workspace,
  settings = {},
  machineSettings,
  env = {},
  trust = false,
  keep = false,
  label = 'vin-ocr-it',
  testDriver = true,
  vsix,
}) {
  const install = ensureCodeServer(repoRoot, vscodeVersion);
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash scripts/setup-system.sh), or set VIN_OCR_CHROMIUM`);
  const temp = mkdtempSync(join(tmpdir(), `${label}-`));
  const dirs = Object.fromEntries(['user-data', 'extensions', 'xdg-config', 'xdg-data', 'browser'].map((name) => [name, join(temp, name)]));
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const write = (folder, values) => {
    mkdirSync(join(dirs['user-data'], folder), { recursive: true });
    writeFileSync(join(dirs['user-data'], folder, 'settings.json'), JSON.stringify(values, null, 2));
  };
  write('User', {
    'security.workspace.trust.enabled': trust,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    ...settings,
  });
  if (machineSettings) write('Machine', machineSettings);
  const configFile = join(temp, 'config.yaml');
  writeFileSync(configFile, 'auth: none\n');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serverLog = join(temp, 'code-server.log');
  const logFd = openSync(serverLog, 'a');
  const args = [
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir',
    dirs['user-data'],
    '--extensions-dir',
    dirs.extensions,
    // The smoke-test driver runs extension tests from the URL's payload; VS Code 1.139 shows no notification
    // toasts while it is on, so sessions that watch notifications as a person would go without it.
    ...(testDriver ? ['--enable-smoke-test-driver'] : []),
    ...(trust ? [] : ['--disable-workspace-trust']),
    workspace,
  ];
  let server;
  let context;
  let closed = false;
  const session = {
    vscodeVersion,
    codeServerVersion: install.codeServerVersion,
    base,
    port,
    temp,
    workspace,
    get context() {
      return context;
    },
    serverLogTail(lines = 20) {
      return existsSync(serverLog) ? readFileSync(serverLog, 'utf8').split('\n').slice(-lines).join('\n') : '';
    },
    /** Processes the session started that are still alive (code-server, its extension host and whatever that spawned, Chromium). */
    processes() {
      return descendantsOf(process.pid);
    },
    /**
     * The workbench URL. With the test driver the extension under test is loaded from the repository
     * (extensionDevelopmentPath), and with `testsIndex` the extension host runs those mocha suites (extensionTestsPath).
     */
    url(testsIndex) {
      if (!testDriver) return `${base}/?folder=${encodeURIComponent(workspace)}`;
      const remote = (path) => `vscode-remote://127.0.0.1:${port}${path}`;
      const payload = [['extensionDevelopmentPath', remote(repoRoot)]];
      if (testsIndex) payload.push(['extensionTestsPath', remote(testsIndex)]);
      return `${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      liveSessions.delete(session);
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
      if (keep) console.log(`  kept ${temp}`);
      else rmSync(temp, { recursive: true, force: true });
    },
  };
  liveSessions.add(session);
  const launcher = join(repoRoot, 'test', 'e2e', 'code-server-launcher.cjs');
  const serverEnv = { ...process.env, XDG_CONFIG_HOME: dirs['xdg-config'], XDG_DATA_HOME: dirs['xdg-data'], ...env };
  try {
    if (vsix) {
      const installed = spawnSync(
        install.node,
        [
          launcher,
          install.packageDir,
          '--config',
          configFile,
          '--user-data-dir',
          dirs['user-data'],
          '--extensions-dir',
          dirs.extensions,
          '--install-extension',
          vsix,
        ],
        {
          env: serverEnv,
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      if (installed.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed: ${installed.stdout}${installed.stderr}`);
    }
    server = spawn(install.node, [launcher, install.packageDir, ...args], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: serverEnv,
    });
    await waitForHealth(base, server);
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(dirs.browser, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    return session;
  } catch (error) {
    console.error(`  code-server log (last lines):\n${session.serverLogTail()}`);
    await session.close();
    throw error;
  }
}

/** The quick-pick row whose label is exactly `label` (fuzzy matching lists look-alikes above it, e.g. in 1.139). */
export function quickPickRow(page, label) {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.getByRole('option', { name: new RegExp(`^${escaped}(,|$)`) }).first();
}

/** F1, type the command's title, click the row with exactly that title — as a person would. */
export async function runFromCommandPalette(page, title) {
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
export async function visibleFrameTitled(page, title, timeoutMs = UI_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (frame.isDetached() || (await frame.title().catch(() => '')) !== title) continue;
      const outer = await frame
        .parentFrame()
        ?.frameElement()
        .catch(() => undefined);
      if (!outer || (await outer.isVisible())) return frame;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no visible webview titled "${title}" within ${timeoutMs / 1000} s`);
}

/** Runs named checks on a page, prints ✔/✘ with timings, keeps a screenshot of each failure. Returns the failures' names. */
export function checker(page, screenshotsDir) {
  const failures = [];
  rmSync(screenshotsDir, { recursive: true, force: true });
  const check = async (name, body) => {
    const started = Date.now();
    try {
      await body();
      console.log(`  ✔ ${name} (${Date.now() - started} ms)`);
      return true;
    } catch (error) {
      failures.push(name);
      console.log(`  ✘ ${name}: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
      mkdirSync(screenshotsDir, { recursive: true });
      const file = join(screenshotsDir, `${failures.length}-${name.replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
      await page()
        .screenshot({ path: file })
        .then(
          () => console.log(`    screenshot: ${file}`),
          () => {},
        );
      return false;
    }
  };
  return { check, failures };
}
