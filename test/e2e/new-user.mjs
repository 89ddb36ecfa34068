// A new user's first run, in a real VS Code, as a person would do it: a workspace holding a copy of examples/,
// no interpreter configured, and on PATH only a plain Python without torch (a bare virtual environment, first on
// PATH). The hardware panel must say torch is missing; "VIN OCR: Set Up Trainer Environment" then really creates
// the trainer's environment through pip, with pip's own configuration (on CI machines: the CPU torch wheel on
// disk); "VIN OCR: Train" on baseline.yaml shows progress in the notification, the status bar and the Training
// view; Cancel in the notification stops it and leaves no trainer or Python process behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  checker,
  copyWorkspace,
  openSession,
  repoRoot,
  runFromCommandPalette,
  step,
  UI_TIMEOUT_MS,
  visibleFrameTitled,
} from './workbench.mjs';

const SETUP_TIMEOUT_MS = 15 * 60_000;
const EXTENSION_ID = 'vin-ocr.vin-ocr';

/** A virtual environment with nothing installed (not even pip): the plain Python a new user has. */
function barePython(dir) {
  const base = process.env.VIN_OCR_PYTHON ?? 'python3';
  const created = spawnSync(base, ['-m', 'venv', '--without-pip', dir], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`${base} -m venv --without-pip failed: ${created.stderr}`);
  const python = join(dir, 'bin', 'python3');
  const torch = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (torch.status === 0) throw new Error(`${python} imports torch: not a new user's Python`);
  return python;
}

function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

/** The session's processes that are Python (the trainer, its workers, pip, the probe) or mention the trainer. */
function pythonProcesses(session) {
  return session
    .processes()
    .map((pid) => ({ pid, command: commandLine(pid) }))
    .filter(
      ({ command }) => command !== undefined && (/(^|\/)python[\d.]*(\s|$)/.test(command.split(' ')[0]) || command.includes('vin_ocr')),
    );
}

/** Every file under a folder whose name matches. */
function findFiles(dir, pattern) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findFiles(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}

/** The extension as users install it: a VSIX of the working tree (dist/ is built by the runner). */
function packageExtension(dir) {
  const vsix = join(dir, 'vin-ocr.vsix');
  const packaged = spawnSync(
    'npx',
    ['vsce', 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', vsix],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (packaged.status !== 0 || !existsSync(vsix)) throw new Error(`vsce package failed: ${packaged.stdout}${packaged.stderr}`);
  console.log(`  packaged ${vsix} (${(statSync(vsix).size / 1e6).toFixed(1)} MB)`);
  return vsix;
}

/** Runs the scenario in `vscodeVersion`; resolves with { ok, failures, note }. */
export async function runNewUser({ vscodeVersion, keep = false }) {
  step(`a new user's first run (VS Code ${vscodeVersion}): no interpreter configured, only a Python without torch on PATH`);
  const scratch = mkdtempSync(join(tmpdir(), 'vin-ocr-new-user-'));
  const python = barePython(join(scratch, 'plain-python'));
  // The user's workspace: a copy of examples/, its training budget cut from 10 minutes to 2 (the run is cancelled anyway).
  const workspace = copyWorkspace(join(repoRoot, 'examples'), join(scratch, 'workspace'));
  const config = join(workspace, 'baseline.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^(\s*max_minutes:\s*)\d+(\.\d+)?/m, '$12'));
  let session;
  let page;
  const { check, failures } = checker(() => page, join(repoRoot, '.vscode-test', 'ui-failures', `new-user-${vscodeVersion}`));
  const notes = [];
  try {
    session = await openSession({
      vscodeVersion,
      workspace,
      keep,
      label: 'vin-ocr-new-user',
      // As a user has it: the packaged extension installed, and notifications as toasts (no test driver).
      testDriver: false,
      vsix: packageExtension(scratch),
      // VSCODE_CLI=1: the server hands the extension host this environment instead of the one a login shell
      // prints (root's profile would put its own Python first on PATH again).
      env: { PATH: `${join(scratch, 'plain-python', 'bin')}${delimiter}${process.env.PATH ?? ''}`, VSCODE_CLI: '1' },
    });
    const userData = join(session.temp, 'user-data');
    page = await session.context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(session.url());
    const toast = (text) => page.locator('.notification-toast', { hasText: text });

    await check('the badge settles with the plain Python', async () => {
      await page.locator('[aria-label^="VIN OCR hardware: trains on"]:not([aria-label*="Probing"])').first().waitFor();
    });

    let panel;
    await check('the hardware panel says torch is missing', async () => {
      await runFromCommandPalette(page, 'VIN OCR: Show Hardware');
      panel = await visibleFrameTitled(page, 'VIN OCR: Hardware');
      const section = panel.locator('section[aria-labelledby="python"]');
      await section.getByText('not installed').first().waitFor();
      const text = await section.innerText();
      if (!text.includes(python.replace(/3$/, '')))
        throw new Error(`the panel's interpreter is not the plain Python (${python}): ${text.slice(0, 300)}`);
      if (!/torch\s+not installed/.test(text)) throw new Error(`the panel does not say torch is missing: ${text.slice(0, 300)}`);
    });

    let setupSeconds;
    const ready = await check('"VIN OCR: Set Up Trainer Environment" installs torch with pip\'s own configuration', async () => {
      const started = Date.now();
      await runFromCommandPalette(page, 'VIN OCR: Set Up Trainer Environment');
      // The progress notification, while it lasts (its message names the step), then the outcome.
      const progress = toast('setting up the trainer environment').first();
      const outcome = toast(/trainer environment ready|environment set-up failed/).first();
      const stepsSeen = new Set();
      const deadline = Date.now() + SETUP_TIMEOUT_MS;
      while (!(await outcome.isVisible())) {
        if (Date.now() > deadline) throw new Error(`no outcome within ${SETUP_TIMEOUT_MS / 60_000} minutes`);
        const text = await progress.innerText({ timeout: 1000 }).catch(() => '');
        const stepName = /\(\d+\/\d+\)/.exec(text) ? text.split('\n').find((line) => /\(\d+\/\d+\)/.test(line)) : undefined;
        if (stepName) stepsSeen.add(stepName.trim());
        await page.waitForTimeout(250);
      }
      setupSeconds = (Date.now() - started) / 1000;
      console.log(`    progress notification showed: ${[...stepsSeen].join(' → ') || '(nothing)'}`);
      if (stepsSeen.size === 0) throw new Error('the progress notification never showed a step');
      const message = await outcome.innerText();
      console.log(`    Set Up Trainer Environment took ${setupSeconds.toFixed(0)} s: "${message.split('\n')[0]}"`);
      notes.push(`Set Up Trainer Environment ${setupSeconds.toFixed(0)} s`);
      if (!/ready/.test(message)) throw new Error(message.split('\n')[0]);
      const venv = join(userData, 'User', 'globalStorage', EXTENSION_ID, 'trainer-venv');
      const torch = spawnSync(join(venv, 'bin', 'python'), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
      if (torch.status !== 0) throw new Error(`torch does not import in ${venv}: ${torch.stderr.slice(-300)}`);
      console.log(`    ${venv}: torch ${torch.stdout.trim()}`);
      // The training log (the output channel, persisted by VS Code) shows what pip was asked to do.
      const log = findFiles(join(userData, 'logs'), /VIN OCR Training\.log$/)
        .map((file) => readFileSync(file, 'utf8'))
        .join('\n');
      if (log) {
        const torchInstall = log.split('\n').find((line) => /\$ .*pip install torch/.test(line));
        console.log(`    ${torchInstall?.replace(/^.*?\$ /, '$ ') ?? '(no torch install line in the log)'}`);
        if (
          process.env.PIP_INDEX_URL ||
          process.env.PIP_FIND_LINKS ||
          /find-links|index-url/.test(spawnSync('pip', ['config', 'list'], { encoding: 'utf8' }).stdout ?? '')
        ) {
          if (torchInstall?.includes('--index-url'))
            throw new Error(`pip is configured here, yet the set-up chose its own index: ${torchInstall}`);
        }
      }
      const metrics = join(repoRoot, '.vscode-test', 'metrics');
      mkdirSync(metrics, { recursive: true });
      writeFileSync(
        join(metrics, 'new-user-setup.json'),
        JSON.stringify({ at: new Date().toISOString(), vscode: vscodeVersion, setupSeconds, torch: torch.stdout.trim() }, null, 2),
      );
    });

    if (ready) {
      await check('the panel then shows the new environment with torch', async () => {
        const section = panel.locator('section[aria-labelledby="python"]');
        await section.getByText('trainer-venv').first().waitFor();
        await section
          .getByText(/^2\.\d+\.\d+/)
          .first()
          .waitFor();
      });

      await check(
        '"VIN OCR: Train" on baseline.yaml shows progress in the notification, the status bar and the Training view',
        async () => {
          await page.keyboard.press('Control+P');
          await page.locator('.quick-input-widget input').waitFor();
          await page.keyboard.type('baseline.yaml');
          await page
            .getByRole('option', { name: /^baseline\.yaml/ })
            .first()
            .click();
          await page.locator('.tab.active', { hasText: 'baseline.yaml' }).waitFor();
          await runFromCommandPalette(page, 'VIN OCR: Train');
          const warning = toast('Train Anyway');
          const notification = toast('VIN OCR: training baseline.yaml').first();
          await Promise.race([
            notification.waitFor(),
            warning
              .first()
              .waitFor()
              .then(async () => {
                throw new Error(`the example config has warnings: ${(await warning.first().innerText()).split('\n')[0]}`);
              }),
          ]);
          // Progress in each place a person looks, in percent of the binding budget (the 2-minute time budget,
          // not max_steps): "N% · m:ss of 2:00" in the notification and the Training view, "VIN OCR N%" in the status bar.
          const ofTheTimeBudget = /[1-9]\d*% · \d+:\d\d of 2:00/;
          await notification
            .getByText(ofTheTimeBudget)
            .first()
            .waitFor({ timeout: 3 * 60_000 });
          console.log(`    notification: "${(await notification.innerText()).replace(/\s+/g, ' ').slice(0, 160)}"`);
          const statusItem = page.locator('[aria-label^="VIN OCR training"]').first();
          await statusItem.filter({ hasText: /VIN OCR [1-9]\d*%/ }).waitFor({ timeout: 60_000 });
          const statusText = (await statusItem.innerText()).trim();
          console.log(`    status bar: "${statusText}" (${await statusItem.getAttribute('aria-label')})`);
          const view = await visibleFrameTitled(page, 'Training');
          await view.locator('.status', { hasText: 'running' }).waitFor();
          const progressValue = view.locator('.stat', { hasText: 'Progress' }).locator('dd');
          await progressValue.filter({ hasText: ofTheTimeBudget }).waitFor({ timeout: 60_000 });
          const stepValue = view.locator('.stat', { hasText: 'Step' }).locator('dd');
          await stepValue.filter({ hasText: /^[1-9]/ }).waitFor();
          const loss = await view.locator('.stat', { hasText: 'Loss' }).locator('dd').innerText();
          const progress = await progressValue.innerText();
          console.log(`    Training view: ${progress}, step ${await stepValue.innerText()}, loss ${loss}`);
        },
      );

      await check('Cancel in the notification stops the run and leaves no trainer or Python process', async () => {
        const notification = toast('VIN OCR: training baseline.yaml').first();
        const trainers = pythonProcesses(session).filter(({ command }) => command.includes('vin_ocr'));
        if (trainers.length === 0) throw new Error('no trainer process was running before Cancel');
        const cancelled = Date.now();
        await notification.getByRole('button', { name: 'Cancel' }).click();
        await notification.waitFor({ state: 'hidden', timeout: 60_000 });
        const view = await visibleFrameTitled(page, 'Training');
        await view.locator('.status', { hasText: 'cancelled' }).waitFor();
        await page.locator('[aria-label^="VIN OCR training"]').first().waitFor({ state: 'hidden' });
        // Nothing of the run may remain: poll the process table for a while (the probe may run briefly after a change).
        let left = pythonProcesses(session);
        const deadline = Date.now() + 30_000;
        while (left.length > 0 && Date.now() < deadline) {
          await page.waitForTimeout(500);
          left = pythonProcesses(session);
        }
        if (left.length > 0)
          throw new Error(`still running after Cancel: ${left.map(({ pid, command }) => `${pid} ${command.slice(0, 120)}`).join('; ')}`);
        const seconds = ((Date.now() - cancelled) / 1000).toFixed(1);
        const pids = trainers.map(({ pid }) => pid).join(', ');
        console.log(`    cancelled and every trainer process gone ${seconds} s after the click (trainer PIDs were ${pids})`);
      });
    }
  } catch (error) {
    failures.push(`aborted: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
    console.error(`\n✘ ${error instanceof Error ? error.message : error}`);
    if (session) console.error(`  code-server log (last lines):\n${session.serverLogTail()}`);
  } finally {
    step('stopping every process started');
    await page?.close().catch(() => {});
    await session?.close();
    if (keep) console.log(`  kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  return { ok: failures.length === 0, failures, note: notes.join(', ') };
}
