import * as assert from 'node:assert/strict';
import { parse } from 'yaml';
import { join } from 'node:path';
import {
  checkpointTarget,
  derivedConfig,
  describeCheckpointModel,
  evaluateArgs,
  parseCheckpointSummary,
  parsePredictOutput,
  predictArgs,
  trainArgs,
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
