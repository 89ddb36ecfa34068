import * as assert from 'node:assert/strict';
import { validateText } from '../../../src/core/config/validate';
import { A10G_WITH_FLASH_ATTN, MAC_M2_16GB } from '../features-hardware/machines';
import { only } from './helpers';

const file = '/work/configs/train.yaml';

describe('training config rules: model.init_from', () => {
  it('accepts the shipped pretrained reader with the default shape, and none with any shape', () => {
    assert.deepEqual(validateText('model:\n  type: baseline\n  init_from: pretrained\n', { file }), []);
    assert.deepEqual(validateText('model:\n  type: baseline\n  hidden_size: 32\n  init_from: none\n', { file }), []);
  });

  it('refuses the pretrained reader for a model of another shape, offering init_from: none', () => {
    const problems = validateText('model:\n  type: baseline\n  hidden_size: 32\n  init_from: pretrained\n', { file });
    const [problem] = only(problems, 'init-shape-mismatch');
    assert.equal(problem!.line, 4);
    assert.equal(problem!.severity, 'error');
    assert.match(problem!.message, /hidden_size 128 \(this config: 32\)/);
    assert.equal(problem!.fix?.replacement, 'none');
  });

  it('reports a checkpoint path that does not exist, resolved against the config file', () => {
    const text = 'model:\n  type: baseline\n  init_from: runs/old/checkpoints/best.pt\n';
    const problems = validateText(text, { file, fileExists: () => false });
    const [problem] = only(problems, 'init-checkpoint-missing');
    assert.match(problem!.message, /\/work\/configs\/runs\/old\/checkpoints\/best\.pt/);
    assert.deepEqual(validateText(text, { file, fileExists: (path) => path === '/work/configs/runs/old/checkpoints/best.pt' }), []);
  });
});

describe('training config rules: distributed', () => {
  const codes = (text: string, facts = A10G_WITH_FLASH_ATTN): string[] =>
    validateText(text, { file, facts }).map((problem) => problem.code);

  it('accepts one process per GPU, and CPU processes on a machine without CUDA', () => {
    assert.deepEqual(codes('model: { type: baseline }\ndistributed:\n  nproc_per_node: 1\n  backend: nccl\n'), []);
    assert.deepEqual(
      codes('model: { type: baseline }\ntraining:\n  device: cpu\ndistributed:\n  nproc_per_node: 2\n  backend: gloo\n', MAC_M2_16GB),
      [],
    );
  });

  it('refuses more processes than CUDA GPUs when training on CUDA', () => {
    const [problem] = validateText('model: { type: baseline }\ndistributed:\n  nproc_per_node: 4\n', { file, facts: A10G_WITH_FLASH_ATTN });
    assert.equal(problem!.code, 'distributed-too-many-processes');
    assert.match(problem!.message, /4 processes, but this machine has 1 CUDA GPU\(s\).*use at most 1, or auto/);
  });

  it('refuses nccl without CUDA, and several nodes without a rendezvous endpoint', () => {
    assert.deepEqual(codes('model: { type: baseline }\ntraining:\n  device: cpu\ndistributed:\n  backend: nccl\n'), [
      'distributed-nccl-without-cuda',
    ]);
    assert.deepEqual(codes('model: { type: baseline }\ndistributed:\n  backend: nccl\n', MAC_M2_16GB), ['distributed-nccl-without-cuda']);
    assert.deepEqual(codes('model: { type: baseline }\ndistributed:\n  nnodes: 2\n'), ['distributed-no-endpoint']);
    assert.deepEqual(codes('model: { type: baseline }\ndistributed:\n  nnodes: 2\n  rdzv_endpoint: 10.0.0.1:29500\n'), []);
  });
});
