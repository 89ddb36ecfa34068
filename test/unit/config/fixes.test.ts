import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyEdits, quickFixes } from '../../../src/core/config/fixes';
import type { Problem } from '../../../src/core/config/problem';
import { validateText } from '../../../src/core/config/validate';
import { facts, fixture } from './helpers';

function fixFirst(
  text: string,
  code: Problem['code'],
  file = 'configs/models/x.yaml',
  options = {},
): { fixed: string; before: Problem[]; after: Problem[] } {
  const before = validateText(text, { file, ...options });
  const problem = before.find((candidate) => candidate.code === code);
  assert.ok(problem, `expected a ${code} problem`);
  const [fix] = quickFixes(text, problem);
  assert.ok(fix, `expected a fix for ${code}`);
  const fixed = applyEdits(text, fix.edits);
  return { fixed, before, after: validateText(fixed, { file, ...options }) };
}

describe('quick fixes', () => {
  const mistakes = readFileSync(fixture('mistakes', 'configs', 'models', 'deepseek_mistakes.yaml'), 'utf8');

  it('applies the enum suggestion and keeps the trailing comment', () => {
    const { fixed, after } = fixFirst(mistakes, 'invalid-enum');
    assert.match(fixed, /^ {2}attn_implementation: flash_attention_2 {2}# typo of flash_attention_2$/m);
    assert.ok(!after.some((problem) => problem.code === 'invalid-enum'));
  });

  it('renames an unknown key to its suggestion, leaving its value alone', () => {
    const { fixed, after } = fixFirst(mistakes, 'unknown-key');
    assert.match(fixed, /^ {2}prompt: "<image>\\nFree OCR\."$/m);
    assert.ok(!after.some((problem) => problem.code === 'unknown-key'));
  });

  it('changes nothing but the fixed value: every other line is byte-identical', () => {
    const { fixed } = fixFirst(mistakes, 'invalid-enum');
    const changed = fixed.split('\n').filter((line, index) => line !== mistakes.split('\n')[index]);
    assert.equal(changed.length, 1);
    assert.ok(fixed.startsWith('# DeepSeek-OCR profile with the mistakes people make'));
  });

  it('sets DeepSeek-OCR sdpa to a supported attention', () => {
    const { fixed, after } = fixFirst(mistakes, 'deepseek-sdpa');
    assert.match(fixed, /- platform: cuda\n {6}attn_implementation: flash_attention_2\n/);
    assert.ok(!after.some((problem) => problem.code === 'deepseek-sdpa'));
  });

  it('sets the attention the policy recommends for this machine', () => {
    const text = "model_id: LiquidAI/LFM2.5-VL-1.6B\ntraining:\n  attn_implementation: 'flash_attention_2' # fast\n";
    const { fixed, after } = fixFirst(text, 'attention-unavailable', 'p.yaml', { facts: facts('t4-linux') });
    assert.equal(
      fixed,
      "model_id: LiquidAI/LFM2.5-VL-1.6B\ntraining:\n  attn_implementation: 'sdpa' # fast\n",
      'keeps the single quotes and the comment',
    );
    assert.deepEqual(after, []);
  });

  it('raises the transformers requirement, quoting it because > starts a folded block in YAML', () => {
    const text = 'model_id: LiquidAI/LFM2.5-VL-1.6B\nrequirements:\n  transformers: ">=4.40.0"   # the seed says so\n';
    const { fixed, after } = fixFirst(text, 'transformers-too-old', 'p.yaml');
    assert.equal(fixed, 'model_id: LiquidAI/LFM2.5-VL-1.6B\nrequirements:\n  transformers: ">=4.57.0"   # the seed says so\n');
    assert.deepEqual(after, []);
  });

  it('writes numbers as numbers (recommended_vram_gb stays numeric)', () => {
    const { fixed, before, after } = fixFirst(mistakes, 'vram-order');
    assert.match(fixed, /^ {2}recommended_vram_gb: 16$/m);
    assert.ok(!after.some((problem) => problem.code === 'vram-order'));
    const typeErrors = (problems: Problem[]) => problems.filter((problem) => problem.code === 'wrong-type').length;
    assert.equal(typeErrors(after), typeErrors(before));
  });

  it('works on CRLF files without touching the line endings', () => {
    const text = 'model_id: a/b\r\ntraining:\r\n  attn_implementation: eagre\r\n';
    const { fixed } = fixFirst(text, 'invalid-enum');
    assert.equal(fixed, 'model_id: a/b\r\ntraining:\r\n  attn_implementation: eager\r\n');
  });

  it('offers nothing for problems without a fix', () => {
    const problems = validateText(mistakes, { file: 'configs/models/x.yaml' });
    const typeError = problems.find((problem) => problem.code === 'wrong-type')!;
    assert.deepEqual(quickFixes(mistakes, typeError), []);
  });
});
