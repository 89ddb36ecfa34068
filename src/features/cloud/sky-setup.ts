// Finding SkyPilot's `sky` for "Train on Cloud…", and creating our own environment for it when there is none.
// The path setting has machine scope and is read only from the user's own settings in a trusted workspace:
// `sky` holds the user's cloud credentials, so a workspace must never choose which program that is.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { findSky, MANAGED_ENVIRONMENT, planSkyEnvironment, runSky, skyArgs } from '../../core/cloud/sky';
import { checkProblem, parseSkyCheck } from '../../core/cloud/sky-output';
import type { CloudProblem, SkyInstallation } from '../../core/cloud/types';
import { requireBasePython, runPlanWithProgress } from '../environment-progress';
import type { TrainingLog } from '../training/log';
import { join } from 'node:path';

export const SKY_PATH_SETTING = 'vinOcr.cloud.skyPath';

/** The user's own `vinOcr.cloud.skyPath`, never a workspace's; none in an untrusted workspace. */
function userSkyPath(): string | undefined {
  if (!vscode.workspace.isTrusted) return undefined;
  const value = vscode.workspace.getConfiguration('vinOcr.cloud').inspect<string>('skyPath')?.globalValue;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

export function findSkyFor(context: vscode.ExtensionContext): Promise<SkyInstallation | undefined> {
  return findSky({
    settingPath: userSkyPath(),
    settingIsUserLevel: true,
    workspaceTrusted: vscode.workspace.isTrusted,
    storageDir: context.globalStorageUri.fsPath,
  });
}

const CLOUD_EXTRAS = [
  { label: 'AWS', extra: 'aws' },
  { label: 'Google Cloud', extra: 'gcp' },
  { label: 'Azure', extra: 'azure' },
];

/**
 * No `sky` found: offers to create SkyPilot's own environment (in the background, with a cancellable
 * progress notification), or to name an existing `sky`. Resolves with the new installation, or undefined.
 */
export async function offerSkyEnvironment(context: vscode.ExtensionContext, log: TrainingLog): Promise<SkyInstallation | undefined> {
  const create = 'Create SkyPilot Environment';
  const setPath = 'Set Path to sky…';
  const answer = await vscode.window.showErrorMessage(
    'VIN OCR: training on the cloud needs SkyPilot ("sky"), which is not installed. ' +
      'VIN OCR can install it into its own environment (about 460 MB), or use an existing one.',
    create,
    setPath,
  );
  if (answer === setPath) {
    await vscode.commands.executeCommand('workbench.action.openSettings', SKY_PATH_SETTING);
    return undefined;
  }
  if (answer !== create) return undefined;
  const clouds = await vscode.window.showQuickPick(
    CLOUD_EXTRAS.map((cloud) => ({ ...cloud, picked: true })),
    { title: 'SkyPilot: which clouds will you use?', canPickMany: true, placeHolder: 'Their SDKs are installed with SkyPilot' },
  );
  if (!clouds) return undefined;
  return createSkyEnvironment(
    context,
    log,
    clouds.map((cloud) => cloud.extra),
  );
}

async function createSkyEnvironment(
  context: vscode.ExtensionContext,
  log: TrainingLog,
  extras: readonly string[],
): Promise<SkyInstallation | undefined> {
  const basePython = await requireBasePython('SkyPilot’s environment');
  if (!basePython) return undefined;
  const storageDir = context.globalStorageUri.fsPath;
  const plan = planSkyEnvironment(storageDir, { basePython, extras, venvExists: existsSync(join(storageDir, MANAGED_ENVIRONMENT)) });
  log.info(`Creating SkyPilot's environment in ${plan.venvDir}`);
  try {
    await runPlanWithProgress('VIN OCR: installing SkyPilot', plan, log);
    return { path: plan.sky, source: 'managed-environment' };
  } catch (error) {
    log.error(`SkyPilot's environment: ${(error as Error).message}`);
    const show = 'Show Log';
    const answer = await vscode.window.showErrorMessage(`VIN OCR: could not install SkyPilot: ${(error as Error).message}`, show);
    if (answer === show) log.show();
    return undefined;
  }
}

/** `sky check`, started early (it takes seconds) and read once the instance, and so its cloud, is known. */
export class SkyCheck {
  private readonly output: Promise<string | undefined>;
  private readonly abort = new AbortController();

  constructor(sky: SkyInstallation) {
    this.output = runSky(sky, skyArgs.check(), { signal: this.abort.signal }).then(
      (result) => (result.spawnError ? undefined : result.output),
      () => undefined,
    );
  }

  /** The problem for this cloud (or any cloud when undefined); undefined when SkyPilot can launch there. */
  async problemFor(cloud: string | undefined): Promise<CloudProblem | undefined> {
    const output = await this.output;
    if (output === undefined) {
      return { code: 'sky-check-failed', message: '`sky check` did not run.', fix: 'Run `sky check` in a terminal to see why.' };
    }
    return checkProblem(parseSkyCheck(output), cloud);
  }

  /** Whether the check has finished (so waiting for it shows no progress). */
  get settled(): Promise<unknown> {
    return this.output;
  }

  cancel(): void {
    this.abort.abort();
  }
}
