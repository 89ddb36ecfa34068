import * as assert from 'node:assert/strict';
import { completionsAt, hoverAt } from '../../../src/core/config/assist';

/** Splits "text with | cursor" into the text and the cursor offset. */
function cursor(marked: string): [string, number] {
  const offset = marked.indexOf('|');
  return [marked.slice(0, offset) + marked.slice(offset + 1), offset];
}

const labels = (marked: string, file = 'configs/models/m.yaml') => {
  const [text, offset] = cursor(marked);
  return completionsAt(text, offset, { file }).map((item) => item.label);
};

describe('completion', () => {
  it('offers the enum values of attn_implementation', () => {
    assert.deepEqual(labels('model_id: a/b\ntraining:\n  attn_implementation: |\n'), ['auto', 'flash_attention_2', 'sdpa', 'eager']);
  });

  it('offers enum values inside a sequence item', () => {
    assert.deepEqual(labels('model_id: a/b\nhardware:\n  supported:\n    - platform: cuda\n      attn_implementation: fl|\n'), [
      'flash_attention_2',
      'sdpa',
      'eager',
    ]);
    assert.deepEqual(labels('model_id: a/b\nhardware:\n  supported:\n    - platform: |\n'), ['cuda', 'mps', 'cpu']);
  });

  it('replaces the word typed so far', () => {
    const [text, offset] = cursor('model: { type: baseline }\ntraining:\n  device: cu|\n');
    const item = completionsAt(text, offset, { file: 'train.yaml' }).find((candidate) => candidate.label === 'cuda')!;
    assert.equal(text.slice(item.replaceStart, item.replaceEnd), 'cu');
  });

  it('offers booleans for boolean keys', () => {
    assert.deepEqual(labels('model: { type: baseline }\ndecoding:\n  check_digit: |\n', 'train.yaml'), ['true', 'false']);
  });

  it('offers the keys of the enclosing section that are not written yet, with their descriptions', () => {
    const [text, offset] = cursor('model_id: a/b\ntraining:\n  prompt: hi\n  |\n');
    const items = completionsAt(text, offset, { file: 'configs/models/m.yaml' });
    assert.ok(items.some((item) => item.label === 'attn_implementation' && item.insertText === 'attn_implementation: '));
    assert.ok(!items.some((item) => item.label === 'prompt'));
    assert.match(items.find((item) => item.label === 'max_new_tokens')!.documentation!, /tokens/);
  });

  it('offers top-level keys at the root', () => {
    const items = labels('model_id: a/b\n|');
    assert.ok(items.includes('hardware') && items.includes('requirements') && !items.includes('model_id'));
  });

  it('offers keys inside a list item', () => {
    const items = labels('model_id: a/b\nhardware:\n  supported:\n    - platform: cuda\n      |\n');
    assert.deepEqual(items.sort(), ['attn_implementation', 'notes']);
  });

  it('works in CRLF files', () => {
    assert.deepEqual(labels('model_id: a/b\r\nhardware:\r\n  supported:\r\n    - platform: cuda\r\n      attn_implementation: |\r\n'), [
      'flash_attention_2',
      'sdpa',
      'eager',
    ]);
    assert.ok(labels('model_id: a/b\r\ntraining:\r\n  |\r\n').includes('attn_implementation'));
  });

  it('stays quiet in YAML files that are not configs', () => {
    assert.deepEqual(labels('name: CI\non:\n  |\n', '.github/workflows/ci.yaml'), []);
  });
});

describe('hover', () => {
  it('shows the schema description, allowed values and default of a key', () => {
    const text = 'model_id: a/b\ntraining:\n  attn_implementation: sdpa\n';
    const hover = hoverAt(text, text.indexOf('attn_implementation') + 3, { file: 'configs/models/m.yaml' })!;
    assert.match(hover.markdown, /\*\*attn_implementation\*\*/);
    assert.match(hover.markdown, /DeepSeek-OCR implements only flash_attention_2 and eager/);
    assert.match(hover.markdown, /Allowed: `auto`, `flash_attention_2`, `sdpa`, `eager`/);
    assert.match(hover.markdown, /Default: `"auto"`/);
    assert.equal(text.slice(hover.start, hover.end), 'attn_implementation');
  });

  it('describes the key when hovering its value', () => {
    const text = 'model: { type: baseline }\ntraining:\n  precision: bf16\n';
    const hover = hoverAt(text, text.indexOf('bf16') + 1, { file: 'train.yaml' })!;
    assert.match(hover.markdown, /compute capability ≥ 8\.0/);
    assert.equal(text.slice(hover.start, hover.end), 'bf16');
  });

  it('has nothing to say about unknown keys', () => {
    const text = 'model_id: a/b\nwhatever: 1\n';
    assert.equal(hoverAt(text, text.indexOf('whatever') + 1, { file: 'configs/models/m.yaml' }), undefined);
  });
});
