// DeepSeek-OCR from VS Code on its real remote code: a small model built from the vendored upstream files
// (trainer/tests/fixtures_deepseek/small_model.py), "VIN OCR: Train" on a deepseek-ocr config runs the whole trainer
// in DeepSeek-OCR's own environment (.deepseek-venv, found through vinOcr.deepseekOcr.pythonPath), the run shows in the
// Runs tree, and "Read VIN from Image" with its LoRA adapter (the same environment) answers a VIN-length read; a run
// cancelled after its first checkpoint leaves no process and resumes from it to the end, in the same environment.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { LiveRun } from '../../src/core/trainer/run-manager';
import type { RunNode } from '../../src/features/training/runs-tree';
import { groupMembers, readVinWith, untilFirstCheckpoint, within } from './waiting';

const EXTENSION_ID = 'vin-ocr.vin-ocr';
const REPO = join(__dirname, '..', '..');
const VENDOR = join(REPO, '..', 'shared', 'vendor', 'DeepSeek-OCR');
const DEEPSEEK_PYTHON = join(REPO, '.deepseek-venv', 'bin', 'python');
const BUILD_MS = 300_000;
const TRAIN_MS = 420_000;
const READ_MS = 240_000;
const VIN_LENGTH = 17;

/** Writes the small real model (about 0.8 GB, random weights) with DeepSeek-OCR's own interpreter. */
async function buildSmallModel(folder: string): Promise<void> {
  const code = 'import sys, pathlib\nfrom fixtures_deepseek.small_model import build\nbuild(pathlib.Path(sys.argv[1]))';
  const trainerPath = [join(REPO, 'trainer'), join(REPO, 'trainer', 'tests')].join(delimiter);
  await promisify(execFile)(DEEPSEEK_PYTHON, ['-c', code, folder], {
    env: { ...process.env, PYTHONPATH: trainerPath },
    timeout: BUILD_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
}

function deepseekConfig(folder: vscode.Uri, modelDir: string, name = 'deepseek-tiny.train.yaml', steps = 2): vscode.Uri {
  const uri = vscode.Uri.joinPath(folder, 'training', name);
  writeFileSync(
    uri.fsPath,
    [
      'model:',
      '  type: deepseek-ocr',
      `  model_id: ${JSON.stringify(modelDir)}`,
      '  trust_remote_code: true',
      '  image_mode: tiny',
      '  export_merged: false',
      'data:',
      '  train: synthetic',
      '  val: synthetic',
      '  synthetic:',
      '    seed: 7',
      '    val_size: 2',
      'training:',
      `  max_steps: ${steps}`,
      '  eval_every: 2',
      '  batch_size: 1',
      '  eval_batch_size: 2',
      '  max_train_samples: 4',
      '  device: cpu',
      '  seed: 3',
      'output_dir: runs',
      '',
    ].join('\n'),
  );
  return uri;
}

describe('DeepSeek-OCR on its real code (in a real VS Code)', function () {
  this.timeout(BUILD_MS + TRAIN_MS + READ_MS);
  let scratch: string | undefined;
  let config: vscode.Uri | undefined;
  let longConfig: vscode.Uri | undefined;
  const savedEnv = { HF_HOME: process.env.HF_HOME, HF_HUB_OFFLINE: process.env.HF_HUB_OFFLINE };

  before(async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
    if (!extension.isActive) await extension.activate();
    if (!vscode.workspace.isTrusted) this.skip(); // the Restricted Mode pass trains nothing
    const missing = [VENDOR, DEEPSEEK_PYTHON].filter((path) => !existsSync(path));
    if (missing.length) {
      console.warn(`NOT RUN: the DeepSeek-OCR suite needs ${missing.join(' and ')} (../shared and scripts/setup-deepseek.sh)`);
      this.skip();
    }
    scratch = mkdtempSync(join(tmpdir(), 'vin-ocr-deepseek-'));
    // The trainer inherits the extension host's environment: the remote code's module cache in the scratch folder,
    // and no Hub access (the model is a local folder).
    process.env.HF_HOME = join(scratch, 'hf');
    process.env.HF_HUB_OFFLINE = '1';
    await buildSmallModel(join(scratch, 'model'));
    config = deepseekConfig(vscode.workspace.workspaceFolders![0]!.uri, join(scratch, 'model'));
    longConfig = deepseekConfig(vscode.workspace.workspaceFolders![0]!.uri, join(scratch, 'model'), 'deepseek-long.train.yaml', 6);
  });

  after(() => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    for (const file of [config, longConfig]) if (file) rmSync(file.fsPath, { force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('trains a LoRA adapter in its own environment, lists the run, and reads a VIN with the adapter', async () => {
    const run = await vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.train', config);
    assert.ok(run, 'Train started a run');
    assert.equal(run.request.python, DEEPSEEK_PYTHON, "the trainer runs with DeepSeek-OCR's own interpreter");
    const state = await within(run.done, TRAIN_MS, 'the DeepSeek-OCR run');
    assert.equal(
      state.status,
      'completed',
      `run ended ${state.status}: ${state.errorCode ?? ''} ${state.errorMessage ?? ''}\n${run.tail.join('\n')}`,
    );
    assert.equal(state.step, 2);
    const runDir = state.runDir!;
    const adapter = join(runDir, 'checkpoints', 'best');
    assert.ok(existsSync(join(adapter, 'adapter_model.safetensors')), 'the best checkpoint is a LoRA adapter');
    const runs = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    assert.ok(
      runs?.some((node) => node.kind === 'run' && node.dir === runDir),
      'the run is in the Runs tree',
    );
    const image = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'training', 'read', 'images', 'vin_12.png');
    const read = await readVinWith(image, adapter, READ_MS, 'Read VIN with the DeepSeek-OCR adapter');
    assert.equal(read.vin!.length, VIN_LENGTH, `a VIN-length read (${read.vin})`);
  });

  it('cancels after the first checkpoint without leaving a process, and resumes from it in the same environment', async function () {
    if (process.platform !== 'linux') this.skip(); // the process table is read from /proc
    const run = await vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.train', longConfig);
    assert.ok(run, 'Train started a run');
    await untilFirstCheckpoint(run, TRAIN_MS, 'the first checkpoint (an evaluation at step 2)');
    const pid = run.pid;
    assert.ok(pid, 'the trainer has a process id');
    await vscode.commands.executeCommand('vinOcr.trainCancel', { kind: 'run', live: run });
    const cancelled = await within(run.done, 60_000, 'the cancelled run to end');
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(groupMembers(pid), [], 'no process of the trainer group is left');
    const runDir = cancelled.runDir!;
    assert.ok(existsSync(join(runDir, 'checkpoints', 'last', 'adapter_model.safetensors')), 'the last adapter is kept');
    const savedAt = cancelled.step ?? 0;

    const runs = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    const node = runs?.find((entry) => entry.kind === 'run' && entry.dir === runDir);
    assert.ok(node, 'the cancelled run is in the Runs tree');
    const resumed = await vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.trainResume', node);
    assert.ok(resumed, 'Resume started the run again');
    assert.equal(resumed.request.python, DEEPSEEK_PYTHON, "the resumed run is in DeepSeek-OCR's environment too");
    const state = await within(resumed.done, TRAIN_MS, 'the resumed DeepSeek-OCR run');
    assert.equal(state.status, 'completed', `resumed run ended ${state.status}: ${state.errorMessage ?? ''}\n${resumed.tail.join('\n')}`);
    assert.equal(state.step, 6);
    const starts = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"run_started"'))
      .map((line) => JSON.parse(line) as { start_step: number; resumed_from: string | null });
    assert.equal(starts.length, 2, 'one start, one resume, in the same run folder');
    assert.ok(starts[1]!.resumed_from, 'the second start resumed from a checkpoint');
    assert.ok(starts[1]!.start_step >= 2 && starts[1]!.start_step <= savedAt, `resumed at step ${starts[1]!.start_step}`);
  });
});
