// The training cockpit's engine room: starts, resumes, retries and cancels runs through the core
// RunManager, and feeds the log, the notification, the status bar and the outcome messages.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { TrainerLauncher } from '../../core/trainer/launcher';
import { RunManager, type LiveRun, type RunManagerListener } from '../../core/trainer/run-manager';
import { runPaths } from '../../core/trainer/run-layout';
import { derivedConfig, trainArgs, type TrainOptions } from '../../core/trainer/trainer-args';
import { parseConfigData } from '../../core/trainer/training-config';
import { modelTypeOfConfig, type TrainerPythonChooser } from './family-environment';
import { logLineProblem, logTrainerLine, type TrainingLog } from './log';
import { announceOutcome, publishIssues, type RetryChange } from './outcome';
import { showRunNotification, TrainingStatusItem } from './progress-ui';
import { requireTrust } from './trust';

/** On window close the trainer gets this long to finish its step and write a checkpoint, then SIGKILL. */
const SHUTDOWN_GRACE_MS = 3000;

export interface StartRequest {
  configPath: string;
  options?: TrainOptions;
  /** Shown instead of the config's file name ("baseline.yaml (batch size 1)"). */
  label?: string;
  /** A run that trains elsewhere (the cloud) brings its launcher; it needs no local interpreter. */
  launcher?: TrainerLauncher;
  /** False when the caller tells the outcome itself (a cloud run's message also offers to tear its cluster down). */
  announceOutcome?: boolean;
}

/** What a run that trains elsewhere names as its interpreter (messages only): the one on the cloud machine. */
const REMOTE_PYTHON = 'python (on the cloud machine)';

export class TrainingController implements vscode.Disposable {
  readonly manager: RunManager;
  private readonly status = new TrainingStatusItem();
  private readonly issues = vscode.languages.createDiagnosticCollection('vin-ocr-trainer');
  private readonly changed = new vscode.EventEmitter<LiveRun>();
  /** Fires (throttled by the manager) whenever a live run changes. */
  readonly onDidChangeRun = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** Each run's `model.type`: the advice for a failure depends on the family (DeepSeek-OCR's own environment). */
  private readonly modelTypes = new WeakMap<LiveRun, string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: TrainingLog,
    private readonly trainerPython: TrainerPythonChooser,
    launcher: TrainerLauncher,
  ) {
    const settings = () => vscode.workspace.getConfiguration('vinOcr.training');
    this.manager = new RunManager({
      launcher,
      maxConcurrent: settings().get<number>('maxConcurrentRuns', 1),
      cancelGraceMs: settings().get<number>('cancelGraceSeconds', 10) * 1000,
    });
    const listener: RunManagerListener = {
      runChanged: (run) => {
        this.changed.fire(run);
        this.status.update(this.manager.active);
      },
      log: (run, line) => logTrainerLine(this.log, this.prefix(run), line),
      launched: (run, description) => this.log.info(`${run.request.label}: ${description}`),
      problem: (run, problem) => logLineProblem(this.log, this.prefix(run), problem),
      event: (run, event) => {
        if (event.type === 'warning')
          this.log.warn(
            `${this.prefix(run)}${event.code ? `[${event.code}] ` : ''}${event.message}${event.fix ? ` Fix: ${event.fix}` : ''}`,
          );
        else if (event.type === 'run_started')
          this.log.info(
            `${this.prefix(run)}run ${event.run_id ?? ''} on ${event.device ?? '?'} ` +
              `(${event.attention ?? '?'}, ${event.dtype ?? '?'}${(event.world_size ?? 1) > 1 ? `, ${event.world_size} processes` : ''})` +
              `${event.init_from ? `, from ${event.init_from}` : ''} → ${event.run_dir ?? ''}`,
          );
      },
    };
    const subscription = this.manager.subscribe(listener);
    this.disposables.push(
      { dispose: () => subscription.dispose() },
      this.status,
      this.issues,
      this.changed,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('vinOcr.training.maxConcurrentRuns'))
          this.manager.maxConcurrent = settings().get<number>('maxConcurrentRuns', 1);
        if (event.affectsConfiguration('vinOcr.training.cancelGraceSeconds'))
          this.manager.cancelGrace = settings().get<number>('cancelGraceSeconds', 10) * 1000;
      }),
    );
  }

  private prefix(run: LiveRun): string {
    return this.manager.active.length > 1 || this.manager.all.length > 1 ? `[${run.request.label}] ` : '';
  }

  /** Starts (or queues) a run; resolves once it is queued, not when it ends. */
  async start(request: StartRequest): Promise<LiveRun | undefined> {
    if (!requireTrust('Training')) return undefined;
    const modelType = await modelTypeOfConfig(request.configPath);
    const python = request.launcher
      ? REMOTE_PYTHON
      : await this.trainerPython.forModelType(modelType, 'run the trainer', vscode.Uri.file(request.configPath));
    if (!python) return undefined;
    const label = request.label ?? basename(request.configPath);
    this.issues.clear();
    const args = trainArgs(request.configPath, request.options);
    const cwd = dirname(request.configPath);
    const run = this.manager.start({ label, configPath: request.configPath, python, args, cwd, launcher: request.launcher });
    if (modelType) this.modelTypes.set(run, modelType);
    if (vscode.workspace.getConfiguration('vinOcr.training').get<boolean>('showNotification', true)) {
      showRunNotification(run, label, (listener) => this.onDidChangeRun(listener));
    }
    if (vscode.workspace.getConfiguration('vinOcr.training').get<boolean>('revealView', true)) {
      void vscode.commands.executeCommand('vinOcr.trainingView.focus', { preserveFocus: true });
    }
    void run.done.then(() => this.finished(run, request.announceOutcome !== false));
    return run;
  }

  private finished(run: LiveRun, announce: boolean): void {
    const state = run.state;
    this.log.info(`${run.request.label}: ${state.status}${state.errorCode ? ` (${state.errorCode})` : ''} at step ${state.step}`);
    if (state.status === 'failed') publishIssues(this.issues, state);
    if (!announce) return;
    void announceOutcome(
      run,
      {
        retry: (failed, change) => void this.retry(failed, change),
        resume: (stopped) => void this.resume(stopped.state.runDir ?? stopped.state.lastCheckpoint, stopped.request.configPath),
        showLog: () => this.log.show(true),
        installFlashAttnStub: () => void this.installFlashAttnStub(),
      },
      this.modelTypes.get(run),
    );
  }

  /** Runs the same config again with a change: a device flag when the trainer has one, else a derived config. */
  async retry(run: LiveRun, change: RetryChange): Promise<LiveRun | undefined> {
    const label = `${basename(run.request.configPath)} (${change.label})`;
    if (!change.changes) return this.start({ configPath: run.request.configPath, options: { device: change.device }, label });
    let configPath: string;
    try {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(run.request.configPath)));
      const data = parseConfigData(text);
      if (!data) throw new Error('the config no longer parses');
      const folder = join(this.context.globalStorageUri.fsPath, 'derived-configs');
      await mkdir(folder, { recursive: true });
      configPath = join(folder, `${basename(run.request.configPath).replace(/\.ya?ml$/i, '')}-${Date.now()}.yaml`);
      await writeFile(configPath, derivedConfig(run.request.configPath, data, change.changes));
    } catch (error) {
      void vscode.window.showErrorMessage(`VIN OCR: could not prepare the retry: ${(error as Error).message}`);
      return undefined;
    }
    return this.start({ configPath, options: { device: change.device }, label });
  }

  async resume(runDirOrCheckpoint: string | undefined, configPath: string | undefined): Promise<LiveRun | undefined> {
    if (!runDirOrCheckpoint) {
      void vscode.window.showWarningMessage('VIN OCR: this run has no checkpoint to resume from.');
      return undefined;
    }
    // The trainer restores the config from the checkpoint; the path only names the run in the UI.
    const config = configPath ?? runPaths(runDirOrCheckpoint).config;
    return this.start({
      configPath: config,
      options: { resumeFrom: runDirOrCheckpoint },
      label: `${basename(runDirOrCheckpoint)} (resumed)`,
    });
  }

  /** Cancels the given run, or asks which when several are active. */
  async cancel(run?: LiveRun): Promise<void> {
    const active = this.manager.active;
    if (!run) {
      if (active.length === 0) {
        void vscode.window.showInformationMessage('VIN OCR: no training is running.');
        return;
      }
      run =
        active.length === 1
          ? active[0]
          : (
              await vscode.window.showQuickPick(
                active.map((candidate) => ({ label: candidate.request.label, description: candidate.state.status, run: candidate })),
                { title: 'Cancel which run?' },
              )
            )?.run;
    }
    if (!run) return;
    this.log.info(`${run.request.label}: cancel requested`);
    run.cancel();
  }

  private async installFlashAttnStub(): Promise<void> {
    const python = await this.trainerPython.forModelType(undefined, 'install the flash-attn stub');
    if (!python) return;
    const stub = vscode.Uri.joinPath(this.context.extensionUri, 'trainer', 'stubs', 'flash_attn_stub').fsPath;
    const task = new vscode.Task(
      { type: 'vin-ocr', config: '', command: 'install-stub' },
      vscode.TaskScope.Workspace,
      'Install the flash-attn stub',
      'VIN OCR',
      new vscode.ProcessExecution(python, ['-m', 'pip', 'install', '-e', stub]),
    );
    await vscode.tasks.executeTask(task);
  }

  /** Window closing: stop every trainer and wait until their process trees are gone. */
  async shutdown(): Promise<void> {
    await this.manager.dispose({ graceMs: SHUTDOWN_GRACE_MS });
  }

  /** Sends SIGTERM to every trainer group at once (synchronously); shutdown() also waits and escalates. */
  dispose(): void {
    void this.manager.dispose({ graceMs: SHUTDOWN_GRACE_MS });
    for (const disposable of this.disposables) disposable.dispose();
  }
}
