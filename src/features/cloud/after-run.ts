// What a cloud run's end says: its outcome (as a local run's would), and that its cluster keeps costing money
// until autostop stops it, with the offer to tear it down (after copying a cancelled run's files back, if wanted).
// One message per end, never blocking; the buttons work whenever they are clicked.
import * as vscode from 'vscode';
import { readCloudRecord, writeCloudRecord, type CloudRunRecord } from '../../core/cloud/cloud-run';
import { runSky, skyArgs } from '../../core/cloud/sky';
import { copyBackOverSsh } from '../../core/cloud/sky-launcher';
import type { SkyInstallation } from '../../core/cloud/types';
import type { LiveRun } from '../../core/trainer/run-manager';
import type { TrainingLog } from '../training/log';
import { bestText, failureText } from '../training/outcome';

const TEAR_DOWN = 'Tear Down Cluster';
const COPY_THEN_TEAR_DOWN = 'Copy Files Back, Then Tear Down';
const COPY_AGAIN = 'Copy Files Back Again';
const SHOW_LOG = 'Show Log';

function stillUp(record: CloudRunRecord): string {
  return record.autostopMinutes > 0
    ? `stops by itself after ${record.autostopMinutes} idle minutes`
    : 'keeps running (autostop is off) and costs money until it is torn down';
}

/** The message and its buttons for the run's end. */
function outcomeMessage(run: LiveRun, record: CloudRunRecord | undefined, launched: boolean): { text: string; buttons: string[] } {
  const state = run.state;
  const label = run.request.label;
  const cluster = record && launched && !record.tornDown ? record : undefined;
  if (state.status === 'failed') {
    const partly = cluster && record?.jobId === undefined ? ` Part of ${cluster.cluster} may be up: it ${stillUp(cluster)}.` : '';
    return { text: `${failureText(run)}${partly}`, buttons: [SHOW_LOG, ...(cluster ? [TEAR_DOWN] : [])] };
  }
  if (state.status === 'cancelled') {
    if (!cluster) return { text: `VIN OCR: training ${label} cancelled before it launched.`, buttons: [] };
    const files = cluster.jobId === undefined ? '' : "; the run's files stay on it until then";
    return {
      text: `VIN OCR: training ${label} cancelled at step ${state.step}. Cluster ${cluster.cluster} ${stillUp(cluster)}${files}.`,
      buttons: cluster.jobId === undefined ? [TEAR_DOWN] : [COPY_THEN_TEAR_DOWN, TEAR_DOWN],
    };
  }
  const finished = `VIN OCR: training ${label} finished at step ${state.step}.${bestText(state)}`;
  if (!cluster) return { text: finished, buttons: [] };
  if (cluster.copyBack?.status === 'failed') {
    const why = cluster.copyBack.message ?? 'copy failed';
    return {
      text: `${finished} Its files did not come back from ${cluster.cluster} (${why}); the cluster ${stillUp(cluster)}.`,
      buttons: [COPY_AGAIN, TEAR_DOWN],
    };
  }
  return {
    text: `${finished} Checkpoints and metrics are in its run folder; cluster ${cluster.cluster} ${stillUp(cluster)}.`,
    buttons: [TEAR_DOWN],
  };
}

/** Tells the run's end and acts on the answer. */
export async function afterCloudRun(
  run: LiveRun,
  runDir: string,
  sky: SkyInstallation,
  log: TrainingLog,
  launched: boolean,
): Promise<void> {
  const record = await readCloudRecord(runDir);
  const { text, buttons } = outcomeMessage(run, record, launched);
  const show =
    run.state.status === 'failed'
      ? vscode.window.showErrorMessage
      : record?.copyBack?.status === 'failed'
        ? vscode.window.showWarningMessage
        : vscode.window.showInformationMessage;
  const answer = await show(text, ...buttons);
  if (answer === SHOW_LOG) log.show(true);
  if (!record) return;
  if (answer === COPY_THEN_TEAR_DOWN || answer === COPY_AGAIN) {
    const copied = await copyBack(runDir, record, log);
    if (answer === COPY_THEN_TEAR_DOWN && copied) await tearDownCluster(runDir, sky, log);
  } else if (answer === TEAR_DOWN) {
    await tearDownCluster(runDir, sky, log);
  }
}

async function copyBack(runDir: string, record: CloudRunRecord, log: TrainingLog): Promise<boolean> {
  const remote = record.remoteRunDir;
  if (!remote) {
    void vscode.window.showWarningMessage(
      `VIN OCR: the trainer on ${record.cluster} never named its run folder: there is nothing to copy.`,
    );
    return false;
  }
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VIN OCR: copying the run's files from ${record.cluster}`, cancellable: true },
    (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return copyBackOverSsh(record.cluster, remote, runDir, abort.signal);
    },
  );
  await writeCloudRecord(runDir, { ...record, copyBack: { ...outcome, at: new Date().toISOString() } });
  if (outcome.status === 'copied') {
    log.info(`Copied the run's files back from ${record.cluster} into ${runDir}`);
    return true;
  }
  log.warn(`Copy-back from ${record.cluster} failed: ${outcome.message ?? ''}`);
  void vscode.window.showWarningMessage(`VIN OCR: could not copy the run's files back: ${outcome.message ?? ''}`);
  return false;
}

/** `sky down -y CLUSTER`, with a progress notification; the record remembers it so nobody is asked again. */
export async function tearDownCluster(runDir: string, sky: SkyInstallation, log: TrainingLog): Promise<boolean> {
  const record = await readCloudRecord(runDir);
  if (!record) return false;
  const args = skyArgs.down(record.cluster);
  log.info(`$ sky ${args.join(' ')}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `VIN OCR: tearing down ${record.cluster}` },
    () => runSky(sky, args, { onLine: (line) => log.info(`cloud: ${line}`) }),
  );
  if (result.exitCode === 0) {
    await writeCloudRecord(runDir, { ...record, tornDown: true });
    void vscode.window.showInformationMessage(`VIN OCR: cluster ${record.cluster} is torn down.`);
    return true;
  }
  const answer = await vscode.window.showErrorMessage(
    `VIN OCR: \`sky down ${record.cluster}\` failed (exit ${result.exitCode ?? result.signal}). Check it with \`sky status\`.`,
    SHOW_LOG,
  );
  if (answer === SHOW_LOG) log.show();
  return false;
}
