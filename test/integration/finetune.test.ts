// Fine-tuning a vision-language model from VS Code: "VIN OCR: Train" on a config whose model is a
// tiny LFM2-VL built offline by the trainer itself. The whole Hugging Face path really runs (CPU).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LiveRun } from '../../src/core/trainer/run-manager';
import type { RunNode } from '../../src/features/training/runs-tree';

const EXTENSION_ID = 'vin-ocr.vin-ocr';

describe('VIN OCR fine-tuning (in a real VS Code)', function () {
  this.timeout(300_000);
  let modelDir: string;
  let config: vscode.Uri;

  before(async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
    if (!extension.isActive) await extension.activate();
    // The Restricted Mode pass (run-code-server.mjs --trust) does not fine-tune.
    if (!vscode.workspace.isTrusted) this.skip();
    const python = vscode.workspace.getConfiguration('vinOcr').get<string>('pythonPath');
    assert.ok(python, 'vinOcr.pythonPath is not set: run the suites with test/e2e/run-code-server.mjs, which sets it to .venv/bin/python');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test workspace is open');

    modelDir = join(mkdtempSync(join(tmpdir(), 'vin-ocr-tiny-vlm-')), 'tiny-lfm2-vl');
    const built = spawnSync(python, ['-m', 'vin_ocr', 'tiny-model', 'lfm2-vl', modelDir], {
      env: { ...process.env, PYTHONPATH: join(__dirname, '..', '..', 'trainer'), HF_HUB_OFFLINE: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(built.status, 0, `tiny-model failed: ${built.stderr}`);

    config = vscode.Uri.joinPath(folder.uri, 'training', 'tiny-vlm.train.yaml');
    writeFileSync(
      config.fsPath,
      [
        'model:',
        '  type: lfm2-vl',
        `  model_id: ${JSON.stringify(modelDir)}`,
        '  attn_implementation: sdpa',
        '  export_merged: false',
        'data:',
        '  train: synthetic',
        '  val: null',
        'training:',
        '  max_steps: 3',
        '  batch_size: 2',
        '  device: cpu',
        'output_dir: runs',
        '',
      ].join('\n'),
    );
  });

  after(() => {
    if (config && existsSync(config.fsPath)) rmSync(config.fsPath);
    if (modelDir) rmSync(join(modelDir, '..'), { recursive: true, force: true });
  });

  it('trains a tiny LFM2-VL config: progress reaches the extension and the run lands in the Runs tree', async () => {
    const run = await vscode.commands.executeCommand<LiveRun | undefined>('vinOcr.train', config);
    assert.ok(run, 'Train started a run');
    const state = await Promise.race([
      run.done,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the tiny fine-tune did not finish in 240 s')), 240_000)),
    ]);
    assert.equal(
      state.status,
      'completed',
      `run ended ${state.status}: ${state.errorCode ?? ''} ${state.errorMessage ?? ''}\n${run.tail.join('\n')}`,
    );
    assert.equal(state.step, 3);
    assert.equal(state.attention, 'sdpa');
    assert.ok(state.loss !== undefined && Number.isFinite(state.loss), 'progress events carried the loss');

    const runs = await vscode.commands.executeCommand<RunNode[]>('vinOcr.runsList');
    const node = runs.find((candidate) => candidate.dir === state.runDir);
    assert.ok(node, 'the run is in the Runs tree');
    assert.equal(node.state.status, 'completed');
    assert.ok(node.state.checkpoints.length >= 1, 'the adapter checkpoint is listed');
  });
});
