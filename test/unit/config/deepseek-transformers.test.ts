import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyEdits, quickFixes } from '../../../src/core/config/fixes';
import { DIAGNOSTIC_CODES } from '../../../src/core/config/problem';
import { DEEPSEEK_TRANSFORMERS } from '../../../src/core/config/rules';
import { validateText } from '../../../src/core/config/validate';
import { findModel } from '../../../src/core/hardware/requirements';
import { fixture, only, validateFixture } from './helpers';

const profile = (model: string, transformers: string) => `model_id: ${model}\nrequirements:\n  transformers: "${transformers}"\n`;
const tooNew = (text: string, file = 'configs/models/p.yaml') => only(validateText(text, { file }), 'transformers-too-new');

describe('transformers-too-new: DeepSeek-OCR cannot be imported with transformers 4.48 or newer', () => {
  it('is an error where the requirement allows only 4.48 or newer, at the value, with the measured range as the fix', () => {
    const [problem, ...rest] = tooNew(profile('deepseek-ai/DeepSeek-OCR', '>=4.57.0'));
    assert.deepEqual(rest, []);
    assert.equal(problem!.severity, 'error');
    assert.equal(`${problem!.line}:${problem!.column}`, '3:17');
    assert.match(problem!.message, /cannot be imported with transformers 4\.48 or newer \(LlamaFlashAttention2 was removed\)/);
    assert.match(problem!.message, /it needs 4\.46\.3–4\.47\.x\. ">=4\.57\.0" only allows releases from 4\.48 on/);
    assert.deepEqual(problem!.fix, { title: 'Require transformers >=4.46.3,<4.48', replacement: '>=4.46.3,<4.48' });
    assert.equal(tooNew(profile('deepseek-ai/DeepSeek-OCR', '==4.48.0'))[0]?.severity, 'error');
  });

  it('is a warning where the requirement also allows older releases', () => {
    for (const specifier of ['>=4.46.3', '~=4.46', '>=4.46.3,<=4.48']) {
      const [problem] = tooNew(profile('deepseek-ai/DeepSeek-OCR', specifier));
      assert.equal(problem?.severity, 'warning', specifier);
      assert.match(problem!.message, /also allows releases from 4\.48 on/);
    }
  });

  it('accepts what the code imports with, and finds the model by its alias too', () => {
    for (const specifier of ['==4.46.3', '>=4.46.3,<4.48', '==4.47.1', '~=4.46.3']) {
      assert.deepEqual(tooNew(profile('deepseek-ai/DeepSeek-OCR', specifier)), [], specifier);
    }
    assert.equal(tooNew(profile('deepseek-ocr', '>=4.48'))[0]?.severity, 'error');
    assert.deepEqual(
      validateFixture(fixture('existing', 'configs', 'models', 'deepseek_ocr.yaml')),
      [],
      'the existing profile pins 4.46.3',
    );
  });

  it('leaves other models alone (LFM2.5-VL needs 4.57 or newer)', () => {
    assert.deepEqual(tooNew(profile('LiquidAI/LFM2.5-VL-1.6B', '>=4.57.0')), []);
    assert.deepEqual(tooNew(profile('PaddleOCR', '>=4.57.0')), []);
  });

  it('looks only at model profiles: training configs name no package versions', () => {
    const problems = validateText('model:\n  type: deepseek-ocr\nrequirements:\n  transformers: ">=4.57"\n', { file: 'train.yaml' });
    assert.deepEqual(only(problems, 'transformers-too-new'), []);
    assert.ok(only(problems, 'unknown-key').length > 0, 'the schema refuses the section instead');
  });

  it('has a quick fix that leaves no problem behind, and keeps the quotes and the comment', () => {
    const text = 'model_id: deepseek-ai/DeepSeek-OCR\nrequirements:\n  transformers: ">=4.46.3"   # newer is better?\n';
    const [problem] = tooNew(text);
    assert.ok(problem);
    const [fix] = quickFixes(text, problem);
    assert.ok(fix);
    const fixed = applyEdits(text, fix.edits);
    assert.equal(fixed, 'model_id: deepseek-ai/DeepSeek-OCR\nrequirements:\n  transformers: ">=4.46.3,<4.48"   # newer is better?\n');
    assert.deepEqual(validateText(fixed, { file: 'configs/models/p.yaml' }), []);
  });

  it('takes its range from DeepSeek-OCR’s environment in data/requirements.json, and is a documented code', () => {
    assert.equal(DEEPSEEK_TRANSFORMERS, findModel('deepseek-ocr')?.environment?.transformers);
    assert.ok(DIAGNOSTIC_CODES.includes('transformers-too-new'));
    const docs = readFileSync('docs/diagnostics.md', 'utf8');
    for (const code of DIAGNOSTIC_CODES) assert.match(docs, new RegExp(`^### ${code}$`, 'm'), `docs/diagnostics.md has no "### ${code}"`);
  });
});
