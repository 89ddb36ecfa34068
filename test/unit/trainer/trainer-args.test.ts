import * as assert from 'node:assert/strict';
import { parse } from 'yaml';
import { derivedConfig, evaluateArgs, parsePredictOutput, predictArgs, trainArgs } from '../../../src/core/trainer/trainer-args';
import { isTrainingConfigText, runsFolderOf } from '../../../src/core/trainer/training-config';

describe('trainer command lines', () => {
  it('always asks for events on stdout and adds only the options given', () => {
    assert.deepEqual(trainArgs('/w/baseline.yaml'), ['train', '/w/baseline.yaml', '--events', '-']);
    assert.deepEqual(trainArgs('/w/b.yaml', { resumeFrom: '/w/runs/r1', device: 'cpu', maxSteps: 5 }), ['train', '/w/b.yaml', '--events', '-', '--resume', '/w/runs/r1', '--device', 'cpu', '--max-steps', '5']);
    assert.deepEqual(evaluateArgs('/r/best.pt', '/d/labels.txt'), ['evaluate', '--checkpoint', '/r/best.pt', '--labels', '/d/labels.txt', '--json']);
    assert.deepEqual(predictArgs('/r/best.pt', ['/i/a b.png']), ['predict', '--checkpoint', '/r/best.pt', '--json', '/i/a b.png']);
  });

  it('derives a config that keeps working from another folder', () => {
    const text = derivedConfig('/w/cfg/baseline.yaml', { model: { type: 'baseline' }, data: { train: 'data/labels.txt', val: 'synthetic', test: null }, training: { batch_size: 64, seed: 1 } }, { training: { batch_size: 1 }, model: { attn_implementation: 'sdpa' } });
    const data = parse(text) as { data: Record<string, unknown>; training: Record<string, unknown>; output_dir: string };
    assert.equal(data.data.train, '/w/cfg/data/labels.txt');
    assert.equal(data.data.val, 'synthetic');
    assert.equal(data.data.test, null);
    assert.equal(data.output_dir, '/w/cfg/runs');
    assert.deepEqual(data.training, { batch_size: 1, seed: 1 });
    assert.deepEqual((data as unknown as { model: unknown }).model, { type: 'baseline', attn_implementation: 'sdpa' });
    assert.match(text, /^# Derived from \/w\/cfg\/baseline.yaml by VIN OCR \(retry with training.batch_size=1, model.attn_implementation=sdpa\)/);
  });

  it('parses predict output and turns malformed output into an error', () => {
    const ok = parsePredictOutput(JSON.stringify([{ image: 'a.png', vin: '1HGCM82633A004352', confidence: 0.97, characters: [{ char: '1', confidence: 0.99 }, { char: 5 }] }, { image: 'b.png', error: 'cannot open' }]));
    assert.ok(Array.isArray(ok));
    assert.equal(ok[0]!.vin, '1HGCM82633A004352');
    assert.equal(ok[0]!.characters!.length, 1);
    assert.equal(ok[1]!.error, 'cannot open');
    assert.deepEqual(parsePredictOutput('{"error": {"code": "checkpoint_invalid", "message": "not a checkpoint", "hint": "pick best.pt"}}'), { error: 'not a checkpoint (pick best.pt)' });
    assert.match((parsePredictOutput('Traceback …') as { error: string }).error, /no JSON/);
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
