import * as assert from 'node:assert/strict';
import { validateText } from '../../../src/core/config/validate';
import { facts, fixture, only, validateFixture } from './helpers';

const profile = (model: string, attention: string) => `model_id: ${model}\ntraining:\n  attn_implementation: ${attention}\n`;

describe('rules judged against the current machine', () => {
  it('warns that a T4 cannot run flash_attention_2 and names what LFM2.5-VL will use instead', () => {
    const problems = validateText(profile('LiquidAI/LFM2.5-VL-1.6B', 'flash_attention_2'), { file: 'p.yaml', facts: facts('t4-linux') });
    const [problem] = only(problems, 'attention-unavailable');
    assert.equal(problem!.line, 3);
    assert.match(problem!.message, /sdpa would be used/);
    assert.match(problem!.message, /compute capability 7\.5/);
    assert.equal(problem!.fix?.replacement, 'sdpa');
  });

  it('for DeepSeek-OCR on a T4 the fallback is eager, because it has no sdpa', () => {
    const problems = validateText(profile('deepseek-ai/DeepSeek-OCR', 'flash_attention_2'), { file: 'p.yaml', facts: facts('t4-linux') });
    assert.equal(only(problems, 'attention-unavailable')[0]!.fix?.replacement, 'eager');
  });

  it('warns on a Mac, where only the flash_attn stub is installed', () => {
    const problems = validateText(profile('LiquidAI/LFM2.5-VL-1.6B', 'flash_attention_2'), {
      file: 'p.yaml',
      facts: facts('macbook-m1-8gb'),
    });
    const [problem] = only(problems, 'attention-unavailable');
    assert.equal(problem!.fix?.replacement, 'sdpa');
    assert.match(problem!.message, /flash-attn needs an NVIDIA GPU with CUDA, and this machine trains on MPS/);
  });

  it('accepts flash_attention_2 on an A100 with flash-attn installed', () => {
    const problems = validateText(profile('LiquidAI/LFM2.5-VL-1.6B', 'flash_attention_2'), { file: 'p.yaml', facts: facts('a100-flash') });
    assert.deepEqual(problems, []);
  });

  it('fixes DeepSeek-OCR sdpa with what the policy picks for this machine', () => {
    const onA100 = validateText(profile('deepseek-ai/DeepSeek-OCR', 'sdpa'), { file: 'p.yaml', facts: facts('a100-flash') });
    assert.equal(only(onA100, 'deepseek-sdpa')[0]!.fix?.replacement, 'flash_attention_2');
    const onMac = validateText(profile('deepseek-ai/DeepSeek-OCR', 'sdpa'), { file: 'p.yaml', facts: facts('macbook-m1-8gb') });
    assert.equal(only(onMac, 'deepseek-sdpa')[0]!.fix?.replacement, 'eager');
  });

  it('warns when the model does not fit, and names cloud instances where it would', () => {
    const problems = validateFixture(fixture('existing', 'configs', 'models', 'deepseek_ocr.yaml'), { facts: facts('macbook-m1-8gb') });
    const [problem] = only(problems, 'model-does-not-fit');
    assert.equal(`${problem!.line}:${problem!.column}`, '2:11');
    assert.equal(problem!.severity, 'warning');
    assert.match(problem!.message, /DeepSeek-OCR does not fit this machine/);
    assert.match(problem!.message, /g5\.xlarge/);
  });

  it('judges a training config by its model type', () => {
    const problems = validateText('model:\n  type: deepseek-ocr\n', { file: 'train.yaml', facts: facts('cpu-laptop-4gb') });
    assert.equal(only(problems, 'model-does-not-fit')[0]!.line, 2);
    assert.deepEqual(validateText('model:\n  type: baseline\n', { file: 'train.yaml', facts: facts('cpu-laptop-4gb') }), []);
  });

  it('judges a trainer config by its trainer', () => {
    const problems = validateFixture(fixture('existing', 'configs', 'liquidai_finetune.yaml'), { facts: facts('cpu-laptop-4gb') });
    assert.equal(only(problems, 'model-does-not-fit')[0]!.line, 1);
  });
});

describe('attention rules in a training config', () => {
  it('flags sdpa for model.type deepseek-ocr', () => {
    const problems = validateText('model:\n  type: deepseek-ocr\n  attn_implementation: sdpa\n', { file: 'train.yaml' });
    const [problem] = only(problems, 'deepseek-sdpa');
    assert.equal(`${problem!.line}:${problem!.column}`, '3:24');
    assert.equal(problem!.fix?.replacement, 'eager');
  });

  it('warns when model.attn_implementation asks for flash attention this machine lacks', () => {
    const problems = validateText('model:\n  type: lfm2-vl\n  attn_implementation: flash_attention_2\n', {
      file: 'train.yaml',
      facts: facts('t4-linux'),
    });
    assert.equal(only(problems, 'attention-unavailable')[0]!.fix?.replacement, 'sdpa');
  });
});
