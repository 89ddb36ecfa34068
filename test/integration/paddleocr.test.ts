// PaddleOCR from VS Code: "VIN OCR: Train" on a paddleocr config runs the vendored PaddleOCR clone's real
// tools/train.py in PaddlePaddle's own environment (.paddle-venv, found through vinOcr.paddleocr.pythonPath),
// reports like every family, exports its model, reads a VIN with it, and cancels cleanly.
import * as assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LiveRun } from '../../src/core/trainer/run-manager';
import type { RunNode } from '../../src/features/training/runs-tree';
import { processesMentioning, readVinWith, until, untilFirstCheckpoint, within } from './waiting';

const EXTENSION_ID = 'vin-ocr.vin-ocr';
const REPO = join(__dirname, '..', '..');
const CLONE = join(REPO, '..', 'shared', 'vendor', 'PaddleOCR');
const PADDLE_PYTHON = join(REPO, '.paddle-venv', 'bin', 'python');

describe('PaddleOCR training (in a real VS Code)', function () {
  this.timeout(300_000);
  const written: vscode.Uri[] = [];

  function paddleConfig(name: string, steps: number): vscode.Uri {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace is open');
    const uri = vscode.Uri.joinPath(folder.uri, 'training', name);
    writeFileSync(
      uri.fsPath,
      [
        'model:',
        '  type: paddleocr',
        'paddleocr:',
        `  repo: ${JSON.stringify(CLONE)}`,
        '  image_shape: [3, 32, 160]',
        '  synthetic_train_size: 16',
        'data:',
        '  train: synthetic',
        '  val: synthetic',
        '  synthetic:',
        '    val_size: 8',
        'training:',
        `  max_steps: ${steps}`,
        '  batch_size: 4',
        '  eval_every: 4',
        'output_dir: runs',
        '',
      ].join('\n'),
    );
    written.push(uri);
    return uri;
  }

  before(async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
    if (!extension.isActive) await extension.activate();
    if (!vscode.workspace.isTrusted) this.skip(); // the Restricted Mode pass trains nothing
    const missing = [CLONE, PADDLE_PYTHON].filter((path) => !existsSync(path));
    if (missing.length) {
      console.warn(`NOT RUN: the PaddleOCR suite needs ${missing.join(' and ')} (../shared and scripts/setup-paddle.sh)`);
      this.skip();
    }
  });

  after(() => {
    for (const uri of written) rmSync(uri.fsPath, { force: true });
  });

  it('trains with the real tools/train.py: progress, evaluations, the Runs tree, the exported model reads a VIN', async () => {
    const run = await vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.train', paddleConfig('tiny-paddle.train.yaml', 8));
    assert.ok(run, 'Train started a run');
    const state = await within(run.done, 240_000, 'the PaddleOCR run');
    assert.equal(
      state.status,
      'completed',
      `run ended ${state.status}: ${state.errorCode ?? ''} ${state.errorMessage ?? ''}\n${run.tail.join('\n')}`,
    );
    assert.equal(state.step, 8);
    assert.ok(state.loss !== undefined && Number.isFinite(state.loss), 'progress events carried the loss');
    const runDir = state.runDir!;
    assert.ok(existsSync(join(runDir, 'inference', 'inference.yml')), 'the best weights were exported with tools/export_model.py');
    const runs = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    assert.ok(
      runs?.some((node) => node.kind === 'run' && node.dir === runDir),
      'the run is in the Runs tree',
    );
    await readVinWith(
      vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'training', 'read', 'images', 'vin_12.png'),
      join(runDir, 'checkpoints', 'best.json'),
      180_000,
      'Read VIN with the PaddleOCR model',
    );
  });

  it('cancel stops tools/train.py with the run and keeps its epoch-end save', async function () {
    if (process.platform !== 'linux') this.skip(); // the process table is read from /proc
    const run = await vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.train', paddleConfig('long-paddle.train.yaml', 400));
    assert.ok(run, 'Train started a run');
    await untilFirstCheckpoint(run, 180_000, 'the first checkpoint (an evaluation at step 4)');
    const runDir = run.state.runDir!;
    await vscode.commands.executeCommand('vinOcr.trainCancel', { kind: 'run', live: run });
    const state = await within(run.done, 60_000, 'the cancelled run to end');
    assert.equal(state.status, 'cancelled');
    await until(() => processesMentioning(runDir).length === 0, 10_000, 'no PaddleOCR process left');
    assert.ok(existsSync(join(runDir, 'checkpoints', 'last.json')), 'the last checkpoint is kept');
  });
});
