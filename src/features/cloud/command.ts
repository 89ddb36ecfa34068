// "VIN OCR: Train on Cloud…": config → `sky` (or our environment for it) → instance → nodes and spot →
// `sky check` for that cloud (started at the beginning, it takes seconds) → a modal confirmation of what
// costs money → the run, started through the training controller with the SkyPilot launcher, so it shows
// in the notification, the Runs tree and the Training view like a local run.
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { clusterNameFor, newCloudRunId } from '../../core/cloud/cloud-run';
import { DEFAULT_AUTOSTOP_MINUTES, planCloudRun } from '../../core/cloud/plan';
import { runSky } from '../../core/cloud/sky';
import { copyBackOverSsh, createSkyLauncher } from '../../core/cloud/sky-launcher';
import { resolveCloudTarget } from '../../core/cloud/targets';
import type { CloudProblem, SkyInstallation } from '../../core/cloud/types';
import type { LiveRun } from '../../core/trainer/run-manager';
import { runsFolderOf } from '../../core/trainer/training-config';
import type { TrainingController } from '../training/controller';
import { pickTrainingConfig, type PickedConfig } from '../training/preflight';
import { requireTrust } from '../training/trust';
import { afterCloudRun } from './after-run';
import { catalogPrices } from './catalog-prices';
import { confirmationText } from './choices';
import { pickInstance, pickRunOptions, type PickedInstance, type RunOptions } from './pickers';
import { findSkyFor, offerSkyEnvironment, SkyCheck } from './sky-setup';

export interface CloudFeatureContext {
  context: vscode.ExtensionContext;
  controller: TrainingController;
}

/** The hardware panel's "Train on cloud…" names the instance; the Explorer, editor and CodeLens name the config. */
interface PanelArgument {
  instance: string;
}

/**
 * Integration tests only (the extension runs in ExtensionMode.Test): VS Code refuses to show modal dialogs
 * in tests, so the test gives the confirmation's answer. Ignored in every other mode.
 */
export interface TestAnswers {
  confirm: boolean;
}

const isPanelArgument = (value: unknown): value is PanelArgument =>
  typeof value === 'object' && value !== null && typeof (value as PanelArgument).instance === 'string';

function modelTypeOf(config: PickedConfig): string | undefined {
  const model = config.data.model as { type?: unknown } | undefined;
  return typeof model?.type === 'string' ? model.type : undefined;
}

export async function trainOnCloud(feature: CloudFeatureContext, argument?: unknown, answers?: unknown): Promise<LiveRun | undefined> {
  if (!requireTrust('Training on the cloud')) return undefined; // before anything: nothing runs untrusted
  const config = await pickTrainingConfig(argument instanceof vscode.Uri ? argument : undefined);
  if (!config) return undefined;
  const { log } = feature.controller;
  const sky = (await findSkyFor(feature.context)) ?? (await offerSkyEnvironment(feature.context, log));
  if (!sky) return undefined;
  const check = new SkyCheck(sky);
  try {
    const modelType = modelTypeOf(config);
    const picked = isPanelArgument(argument) ? await fromPanel(argument.instance) : await pickInstance(modelType);
    if (!picked) return undefined;
    const options = await pickRunOptions(picked);
    if (!options) return undefined;
    const problem = await waitForCheck(check, picked.target.cloud);
    if (problem) return void showProblem(problem, log);
    const autostopMinutes = autostopSetting();
    const testAnswers = feature.context.extensionMode === vscode.ExtensionMode.Test ? (answers as TestAnswers | undefined) : undefined;
    const confirmed = await confirmLaunch(config, picked, options, autostopMinutes, testAnswers);
    if (!confirmed) return undefined;
    return await startCloudRun(feature, sky, config, picked, options, autostopMinutes);
  } finally {
    check.cancel(); // a check still running when the person walked away is ended, not left behind
  }
}

async function fromPanel(instance: string): Promise<PickedInstance | undefined> {
  const resolved = resolveCloudTarget(instance);
  if (!resolved.ok) {
    void vscode.window.showErrorMessage(`VIN OCR: ${resolved.problem.message} ${resolved.problem.fix}`);
    return undefined;
  }
  const prices = await catalogPrices([resolved.target]);
  return { target: resolved.target, price: prices.get(resolved.target.id) };
}

function autostopSetting(): number {
  const minutes = vscode.workspace.getConfiguration('vinOcr.cloud').get<number>('autostopMinutes', DEFAULT_AUTOSTOP_MINUTES);
  return Number.isInteger(minutes) && minutes >= 0 ? minutes : DEFAULT_AUTOSTOP_MINUTES;
}

/** The check's verdict; a notification says what is being waited for when it is not back yet. */
async function waitForCheck(check: SkyCheck, cloud: string | undefined): Promise<CloudProblem | undefined> {
  const answer = check.problemFor(cloud);
  const quick = await Promise.race([answer.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 300))]);
  if (quick) return answer;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'VIN OCR: checking SkyPilot’s cloud credentials (sky check)…' },
    () => answer,
  );
}

function showProblem(problem: CloudProblem, log: vscode.LogOutputChannel): void {
  log.error(`${problem.code}: ${problem.message} Fix: ${problem.fix}`);
  void vscode.window.showErrorMessage(`VIN OCR: ${problem.message} ${problem.fix}`);
}

async function confirmLaunch(
  config: PickedConfig,
  picked: PickedInstance,
  options: RunOptions,
  autostopMinutes: number,
  testAnswers: TestAnswers | undefined,
): Promise<boolean> {
  if (testAnswers) return testAnswers.confirm;
  const text = confirmationText({
    ...options,
    target: picked.target,
    price: picked.price,
    autostopMinutes,
    configName: basename(config.uri.fsPath),
  });
  const launch = 'Launch';
  return (await vscode.window.showWarningMessage(text.message, { modal: true, detail: text.detail }, launch)) === launch;
}

async function startCloudRun(
  feature: CloudFeatureContext,
  sky: SkyInstallation,
  config: PickedConfig,
  picked: PickedInstance,
  options: RunOptions,
  autostopMinutes: number,
): Promise<LiveRun | undefined> {
  const { context, controller } = feature;
  const configPath = config.uri.fsPath;
  const runId = newCloudRunId(modelTypeOf(config));
  const runDir = join(runsFolderOf(configPath, config.data), runId);
  let launched = false;
  const launcher = createSkyLauncher({
    request: {
      configPath,
      instance: picked.target.id,
      nodes: options.nodes,
      spot: options.spot,
      autostopMinutes,
      clusterName: clusterNameFor(runId),
      trainerDir: vscode.Uri.joinPath(context.extensionUri, 'trainer').fsPath,
      stagingRoot: vscode.Uri.joinPath(context.globalStorageUri, 'cloud-staging').fsPath,
    },
    plan: planCloudRun,
    sky: (args, runOptions) => runSky(sky, args, runOptions),
    runDir,
    runId,
    copyBack: copyBackOverSsh,
    hourlyPrice: picked.price,
    onRecord: (record) => (launched ||= record.state === 'launching'),
  });
  const label = `${basename(configPath)} on ${picked.target.id}`;
  // The outcome is told here, with the cluster's offers, instead of the training controller's generic message.
  const run = await controller.start({ configPath, label, launcher, announceOutcome: false });
  if (run) void run.done.then(() => afterCloudRun(run, runDir, sky, controller.log, launched));
  return run;
}
