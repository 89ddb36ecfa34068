import * as assert from 'node:assert/strict';
import { validateText } from '../../../src/core/config/validate';
import { brief, fixture, only, validateFixture } from './helpers';

const mistakes = fixture('mistakes', 'configs', 'models', 'deepseek_mistakes.yaml');

describe('schema diagnostics', () => {
  const problems = validateFixture(mistakes);

  it('reports an enum typo at its value, with the nearest allowed value as the fix', () => {
    const [problem] = only(problems, 'invalid-enum');
    assert.equal(`${problem!.line}:${problem!.column}-${problem!.endColumn}`, '16:24-36');
    assert.equal(problem!.severity, 'error');
    assert.match(problem!.message, /did you mean "flash_attention_2"/);
    assert.deepEqual(problem!.fix, { title: 'Change to "flash_attention_2"', replacement: 'flash_attention_2' });
  });

  it('reports an unknown key as a warning on the key, suggesting the known one', () => {
    const [problem] = only(problems, 'unknown-key');
    assert.equal(`${problem!.line}:${problem!.column}`, '17:3');
    assert.equal(problem!.severity, 'warning');
    assert.equal(problem!.fix?.replacement, 'prompt');
  });

  it('reports wrong types and out-of-range numbers at their values', () => {
    assert.deepEqual(brief(only(problems, 'wrong-type')), ['14:22 wrong-type']);
    assert.match(only(problems, 'wrong-type')[0]!.message, /trust_remote_code must be true or false/);
    assert.deepEqual(brief(only(problems, 'out-of-range')), ['15:19 out-of-range']);
    assert.match(only(problems, 'out-of-range')[0]!.message, /max_new_tokens must be >= 1 \(is 0\)/);
  });

  it('reports a missing required key at the parent key', () => {
    const problems = validateText('model:\n  height: 32\ntraining:\n  max_steps: 10\n', { file: 'train.yaml' });
    assert.deepEqual(brief(problems), ['1:1 missing-key']);
    assert.match(problems[0]!.message, /model needs the key "type"/);
  });

  it('folds anyOf/oneOf branches into one message per value', () => {
    const problems = validateText('model: { type: baseline }\ntraining:\n  num_workers: lots\n', { file: 'train.yaml' });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.match(problems[0]!.message, /num_workers/);
  });

  it('suggests cuda for "gpu", the word people mean', () => {
    const problems = validateText('model: { type: baseline }\ntraining: { device: gpu }\n', { file: 'train.yaml' });
    assert.equal(problems[0]!.fix?.replacement, 'cuda');
  });

  it('reports a key written twice at its second occurrence', () => {
    const problems = validateText('model_id: a/b\nmodel_name: x\nmodel_name: y\n', { file: 'p.yaml' });
    assert.deepEqual(brief(problems), ['3:1 duplicate-key']);
  });

  it('reports syntax errors at their position and skips schema checks for that document', () => {
    const problems = validateText('model_id: a/b\nhardware:\n  min_vram_gb: [8\n', { file: 'configs/models/x.yaml' });
    assert.ok(problems.length > 0);
    assert.ok(problems.every((problem) => problem.code === 'yaml-syntax'));
    assert.ok(problems.every((problem) => problem.line >= 3));
  });

  it('reports unknown tags as information and reads their values as plain text', () => {
    const problems = validateText('model_id: !include other.yaml\nmodel_name: !!python/object:os.system rm\n', { file: 'p.yaml' });
    assert.deepEqual(brief(problems), ['1:11 unknown-tag', '2:13 unknown-tag']);
    assert.ok(problems.every((problem) => problem.severity === 'info'));
  });

  it('validates every document of a multi-document file', () => {
    const text = 'model_id: a/b\ntraining: { max_new_tokens: 0 }\n---\nmodel_id: c/d\ntraining:\n  attn_implementation: SDPA\n';
    assert.deepEqual(brief(validateText(text, { file: 'configs/models/two.yaml' })), ['2:29 out-of-range', '6:24 invalid-enum']);
  });
});

describe('semantic rules without a machine', () => {
  const problems = validateFixture(mistakes);

  it('flags recommended_vram_gb below min_vram_gb and offers the minimum', () => {
    const [problem] = only(problems, 'vram-order');
    assert.equal(problem!.line, 7);
    assert.equal(problem!.fix?.replacement, 16);
  });

  it('flags sdpa for DeepSeek-OCR, which implements only flash_attention_2 and eager', () => {
    const [problem] = only(problems, 'deepseek-sdpa');
    assert.equal(`${problem!.line}:${problem!.column}`, '10:28');
    assert.equal(problem!.severity, 'error');
    assert.equal(problem!.fix?.replacement, 'flash_attention_2', 'the listed platform is cuda');
  });

  it('stays silent about hardware without facts', () => {
    assert.deepEqual(only(problems, 'model-does-not-fit'), []);
    assert.deepEqual(only(problems, 'attention-unavailable'), []);
  });

  it('flags an LFM2.5-VL transformers requirement that allows releases before 4.57', () => {
    const [problem] = only(
      validateFixture(fixture('mistakes', 'configs', 'models', 'liquidai_old_transformers.yaml')),
      'transformers-too-old',
    );
    assert.equal(`${problem!.line}:${problem!.column}`, '4:17');
    assert.equal(problem!.severity, 'warning');
    assert.equal(problem!.fix?.replacement, '>=4.57.0');
  });

  it('makes a pinned old transformers an error: no allowed release can load LFM2.5-VL', () => {
    const problems = validateText('model_id: LiquidAI/LFM2.5-VL-1.6B\nrequirements:\n  transformers: "==4.46.3"\n', { file: 'p.yaml' });
    assert.equal(only(problems, 'transformers-too-old')[0]!.severity, 'error');
  });

  it('reports dataset paths that do not exist, relative to the config file', () => {
    const problems = validateFixture(fixture('mistakes', 'train_missing_data.yaml'));
    const [problem] = only(problems, 'dataset-missing');
    assert.equal(problem!.line, 4);
    assert.match(problem!.message, /mistakes\/data\/does-not-exist\/labels\.txt/);
  });

  it('accepts dataset paths that exist and the "synthetic" source', () => {
    const text = 'model: { type: baseline }\ndata:\n  train: ../training/baseline.yaml\n  val: synthetic\n';
    const problems = validateText(text, {
      file: fixture('mistakes', 'train.yaml'),
      fileExists: (path) => path.endsWith('training/baseline.yaml'),
    });
    assert.deepEqual(problems, []);
  });

  it('notes an output_dir outside the workspace as information', () => {
    const [problem] = only(validateFixture(fixture('mistakes', 'train_missing_data.yaml')), 'output-outside-workspace');
    assert.equal(problem!.severity, 'info');
    assert.equal(problem!.line, 9);
  });
});

describe('values with several allowed forms', () => {
  it('names every form and suggests the near-miss enum value', () => {
    const problems = validateText('model: { type: baseline }\ntraining:\n  num_workers: aut\n', { file: 'train.yaml' });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.code, 'invalid-enum');
    assert.match(problems[0]!.message, /num_workers must be "auto" or an integer ≥ 0, not the text "aut"; did you mean "auto"\?/);
    assert.equal(problems[0]!.fix?.replacement, 'auto');
  });

  it('reports a wrong type against all forms', () => {
    const problems = validateText('model: { type: baseline }\ndata:\n  train: 5\n', { file: 'train.yaml' });
    assert.deepEqual(brief(problems), ['3:10 wrong-type']);
    assert.match(problems[0]!.message, /data\.train must be a string or null, not number 5/);
  });

  it('reports a list with a wrong item once, at the list', () => {
    const problems = validateText('trainer: deepseek\ncommand: [python, 3]\n', { file: 'x_finetune.yaml' });
    assert.deepEqual(brief(problems), ['2:10 wrong-type']);
    assert.match(problems[0]!.message, /command must be a string or a list of strings/);
  });
});
