import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import {
  checkpointTarget,
  defaultExportFolder,
  derivedConfig,
  describeCheckpointModel,
  describeParity,
  evaluateArgs,
  EXPORT_FILES,
  exportArgs,
  parseCheckpointSummary,
  parseExportOutput,
  parsePredictOutput,
  predictArgs,
  runFolderOfCheckpoint,
  trainArgs,
  type ExportOutcome,
} from '../../../src/core/trainer/trainer-args';
import { isTrainingConfigText, runsFolderOf } from '../../../src/core/trainer/training-config';

describe('trainer command lines', () => {
  it('always asks for events on stdout and adds only the options given', () => {
    assert.deepEqual(trainArgs('/w/baseline.yaml'), ['train', '/w/baseline.yaml', '--events', '-']);
    assert.deepEqual(trainArgs('/w/b.yaml', { resumeFrom: '/w/runs/r1', device: 'cpu', maxSteps: 5 }), [
      'train',
      '/w/b.yaml',
      '--events',
      '-',
      '--resume',
      '/w/runs/r1',
      '--device',
      'cpu',
      '--max-steps',
      '5',
    ]);
    assert.deepEqual(evaluateArgs('/r/best.pt', '/d/labels.txt'), [
      'evaluate',
      '--checkpoint',
      '/r/best.pt',
      '--labels',
      '/d/labels.txt',
      '--json',
    ]);
    assert.deepEqual(predictArgs('/r/best.pt', ['/i/a b.png']), ['predict', '--checkpoint', '/r/best.pt', '--json', '/i/a b.png']);
  });

  it('derives a config that keeps working from another folder', () => {
    const text = derivedConfig(
      '/w/cfg/baseline.yaml',
      {
        model: { type: 'baseline' },
        data: { train: 'data/labels.txt', val: 'synthetic', test: null },
        training: { batch_size: 64, seed: 1 },
      },
      { training: { batch_size: 1 }, model: { attn_implementation: 'sdpa' } },
    );
    const data = parse(text) as { data: Record<string, unknown>; training: Record<string, unknown>; output_dir: string };
    assert.equal(data.data.train, '/w/cfg/data/labels.txt');
    assert.equal(data.data.val, 'synthetic');
    assert.equal(data.data.test, null);
    assert.equal(data.output_dir, '/w/cfg/runs');
    assert.deepEqual(data.training, { batch_size: 1, seed: 1 });
    assert.deepEqual((data as unknown as { model: unknown }).model, { type: 'baseline', attn_implementation: 'sdpa' });
    assert.match(
      text,
      /^# Derived from \/w\/cfg\/baseline.yaml by VIN OCR \(retry with training.batch_size=1, model.attn_implementation=sdpa\)/,
    );
  });

  it('parses predict output and turns malformed output into an error', () => {
    const ok = parsePredictOutput(
      JSON.stringify([
        { image: 'a.png', vin: '1HGCM82633A004352', confidence: 0.97, characters: [{ char: '1', confidence: 0.99 }, { char: 5 }] },
        { image: 'b.png', error: 'cannot open' },
      ]),
    );
    assert.ok(Array.isArray(ok));
    assert.equal(ok[0]!.vin, '1HGCM82633A004352');
    assert.equal(ok[0]!.characters!.length, 1);
    assert.equal(ok[1]!.error, 'cannot open');
    assert.deepEqual(
      parsePredictOutput('{"error": {"code": "checkpoint_invalid", "message": "not a checkpoint", "hint": "pick best.pt"}}'),
      { error: 'not a checkpoint (pick best.pt)' },
    );
    assert.match((parsePredictOutput('Traceback …') as { error: string }).error, /no JSON/);
  });
});

describe('checkpoint arguments', () => {
  const run = join('/w', 'runs', 'r1');
  const checkpoints = join(run, 'checkpoints');

  it('passes every kind of checkpoint evaluate and predict read as --checkpoint', () => {
    const best = join(checkpoints, 'best');
    assert.equal(checkpointTarget(join(checkpoints, 'best.pt'), false), join(checkpoints, 'best.pt'), 'a baseline file');
    assert.equal(checkpointTarget(join('/w', 'MODEL.PT'), false), join('/w', 'MODEL.PT'), 'any .pt file, any case');
    assert.equal(checkpointTarget(best, true), best, 'a fine-tuning checkpoint folder');
    assert.equal(checkpointTarget(run, true), run, 'a run folder: the trainer takes its best checkpoint');
    assert.equal(checkpointTarget(join('/w', 'adapter'), true), join('/w', 'adapter'), 'a bare LoRA adapter folder');
    assert.deepEqual(evaluateArgs(best, '/d/labels.txt'), ['evaluate', '--checkpoint', best, '--labels', '/d/labels.txt', '--json']);
    assert.deepEqual(predictArgs(best, ['/i/a.png']), ['predict', '--checkpoint', best, '--json', '/i/a.png']);
  });

  it('takes a checkpoint folder’s own files for the folder, and images for images', () => {
    assert.equal(checkpointTarget(join(checkpoints, 'last', 'checkpoint.json'), false), join(checkpoints, 'last'));
    assert.equal(checkpointTarget(join('/w', 'adapter', 'adapter_config.json'), false), join('/w', 'adapter'));
    for (const image of ['vin.png', 'VIN.JPG', 'scan.tiff', 'best.pt.png', 'notes.json'])
      assert.equal(checkpointTarget(join('/w', image), false), undefined, image);
  });

  it('reads what a checkpoint summary says, and survives broken ones', () => {
    const summary = {
      family: 'lfm2-vl',
      step: 40,
      config: { model: { type: 'lfm2-vl', model_id: 'LiquidAI/LFM2-VL-450M', finetune: 'lora' } },
    };
    assert.deepEqual(parseCheckpointSummary(JSON.stringify(summary)), {
      family: 'lfm2-vl',
      step: 40,
      modelId: 'LiquidAI/LFM2-VL-450M',
      finetune: 'lora',
    });
    assert.deepEqual(parseCheckpointSummary('{"config": {"model": {"type": "deepseek-ocr", "model_id": null}}}'), {
      family: 'deepseek-ocr',
    });
    for (const broken of ['', 'not json', 'null', '[1]', '{"family": 3, "step": "7", "config": {"model": 1}}'])
      assert.deepEqual(parseCheckpointSummary(broken), {}, broken);
  });

  it('labels checkpoints with their model type', () => {
    assert.equal(describeCheckpointModel(false), 'baseline');
    assert.equal(describeCheckpointModel(true, { family: 'lfm2-vl', finetune: 'lora', step: 40 }), 'lfm2-vl LoRA · step 40');
    assert.equal(describeCheckpointModel(true, { family: 'deepseek-ocr', finetune: 'full' }), 'deepseek-ocr full fine-tune');
    assert.equal(describeCheckpointModel(true, {}), 'fine-tuned');
  });
});

describe('export', () => {
  /** `export --json` as the trainer really printed it (trainer/: `python -m vin_ocr export --checkpoint … --json`). */
  const captured = (name: string) => readFileSync(join(__dirname, 'fixtures', 'export', `${name}.json`), 'utf8');
  const run = join('/w', 'runs', 'r1');

  it('exports to ONNX with JSON on stdout, the parity size only when given', () => {
    assert.deepEqual(exportArgs('/r/best.pt', '/o/onnx dir'), [
      'export',
      '--checkpoint',
      '/r/best.pt',
      '--format',
      'onnx',
      '--output',
      '/o/onnx dir',
      '--json',
    ]);
    assert.deepEqual(exportArgs('pretrained', '/o', { paritySize: 50 }).slice(-3), ['--parity-size', '50', '--json']);
  });

  it("writes a run's export into <run>/export/onnx, and knows a run's checkpoints from other ones", () => {
    assert.equal(defaultExportFolder(run), join(run, 'export', 'onnx'));
    assert.equal(runFolderOfCheckpoint(join(run, 'checkpoints', 'best.pt')), run);
    assert.equal(runFolderOfCheckpoint(join(run, 'checkpoints', 'last')), run, 'a fine-tuning checkpoint folder');
    assert.equal(runFolderOfCheckpoint(`${join(run, 'checkpoints', 'best')}/`), run, 'with a trailing separator');
    for (const other of ['pretrained', join('/w', 'model.pt'), run, join(run, 'checkpoints')])
      assert.equal(runFolderOfCheckpoint(other), undefined, other);
    assert.deepEqual(EXPORT_FILES, { model: 'model.onnx', manifest: 'vin-ocr-model.json' });
  });

  it("parses the trainer's real result: files, checkpoint, parity", () => {
    const outcome = parseExportOutput(captured('exported'));
    assert.equal(outcome.kind, 'exported');
    const { result } = outcome as Extract<ExportOutcome, { kind: 'exported' }>;
    assert.equal(result.model, '/tmp/exp/model.onnx');
    assert.equal(result.manifest, '/tmp/exp/vin-ocr-model.json');
    assert.match(result.checkpoint, /vin-reader\.pt$/);
    assert.equal(result.step, 2000);
    assert.equal(result.opset, 20);
    assert.deepEqual(result.parity, {
      size: 500,
      identical: 500,
      identicalShare: 1,
      threshold: 0.995,
      passed: true,
      maxAbsLogProbDiff: 2.384185791015625e-5,
      seed: 1234,
      exactMatchTorch: 0.504,
      exactMatchOnnx: 0.504,
    });
    assert.equal(describeParity(result.parity), '500/500 reads identical (100.0%), largest log-prob difference 2.4e-5');
  });

  it('keeps a failed parity check as a result (the files stay for inspection) and says what it needed', () => {
    const failing = JSON.parse(captured('exported')) as { parity: Record<string, unknown> };
    failing.parity = { size: 200, identical: 190, max_abs_log_prob_diff: 0.31 }; // an older trainer: no share, threshold or verdict
    const outcome = parseExportOutput(JSON.stringify(failing));
    assert.equal(outcome.kind, 'exported');
    const { parity } = (outcome as Extract<ExportOutcome, { kind: 'exported' }>).result;
    assert.deepEqual([parity.identicalShare, parity.threshold, parity.passed], [0.95, 0.995, false]);
    assert.equal(describeParity(parity), '190/200 reads identical (95.0%, needs 99.5%), largest log-prob difference 3.1e-1');
  });

  it("tells a vision-language checkpoint's refusal (with advice) from a failure", () => {
    const refusal = parseExportOutput(captured('not-available'));
    assert.equal(refusal.kind, 'not-available');
    const { message, hint } = refusal as Extract<ExportOutcome, { kind: 'not-available' }>;
    assert.match(message, /ONNX export is not available for lfm2-vl checkpoints/);
    assert.match(hint!, /export\/merged/);
  });

  it('carries the code and install command of a missing dependency, and survives anything else', () => {
    const missing = parseExportOutput(captured('missing-dependency'));
    assert.equal(missing.kind, 'failed');
    const failed = missing as Extract<ExportOutcome, { kind: 'failed' }>;
    assert.equal(failed.code, 'missing_dependency');
    assert.match(failed.message, /'onnxscript' is not installed/);
    assert.match(failed.command!, /-m pip install onnxscript$/);
    assert.deepEqual(parseExportOutput('{"error": {"code": "checkpoint_invalid", "message": "Checkpoint /x.pt does not exist."}}'), {
      kind: 'failed',
      code: 'checkpoint_invalid',
      message: 'Checkpoint /x.pt does not exist.',
    });
    for (const broken of ['', 'Traceback …', 'null', '[]', '{"model": "/m.onnx", "manifest": "/m.json"}', '{"error": 3}'])
      assert.equal(parseExportOutput(broken).kind, 'failed', broken);
    assert.match((parseExportOutput('Traceback …') as { message: string }).message, /no JSON/);
  });
});

describe('training config recognition', () => {
  it('recognises training configs and nothing else', () => {
    assert.ok(isTrainingConfigText('model:\n  type: baseline\ntraining:\n  max_steps: 5\n'));
    assert.ok(!isTrainingConfigText('model_id: deepseek-ai/DeepSeek-OCR\n'));
    assert.ok(!isTrainingConfigText('trainer: deepseek\nmodel:\n  type: x\n'));
    assert.ok(!isTrainingConfigText('version: "2.1"\nservices: {}\n'));
    assert.ok(!isTrainingConfigText(': : not yaml ['));
  });

  it('finds the runs folder relative to the config', () => {
    assert.equal(runsFolderOf('/w/examples/b.yaml', { output_dir: '../out' }), '/w/out');
    assert.equal(runsFolderOf('/w/examples/b.yaml', {}), '/w/examples/runs');
    assert.equal(runsFolderOf('/w/b.yaml', { output_dir: '/abs/runs' }), '/abs/runs');
  });
});
