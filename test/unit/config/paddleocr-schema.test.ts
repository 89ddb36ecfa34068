import * as assert from 'node:assert/strict';
import { completionsAt, hoverAt } from '../../../src/core/config/assist';
import { describeAt, knownKeysAt, SCHEMAS } from '../../../src/core/config/schemas';
import { validateText } from '../../../src/core/config/validate';
import { DEFAULT_BASE_CONFIG, MIN_TEXT_LENGTH } from '../../../src/core/trainer/paddleocr';

const file = 'paddle.train.yaml';
/** The contract's keys of the `paddleocr` section (the trainer's PaddleSettings reads exactly these). */
const KEYS = ['repo', 'base_config', 'pretrained_model', 'image_shape', 'max_text_length', 'synthetic_train_size', 'overrides'];

function cursor(marked: string): [string, number] {
  const offset = marked.indexOf('|');
  return [marked.slice(0, offset) + marked.slice(offset + 1), offset];
}

const codes = (text: string) => validateText(text, { file }).map((problem) => problem.code);
const paddle = (body: string) => `model:\n  type: paddleocr\npaddleocr:\n  repo: ../PaddleOCR\n${body}`;

describe('training-config schema: the paddleocr section', () => {
  it('is a top-level section with exactly the contract’s keys, and model.type still lists paddleocr', () => {
    assert.deepEqual(knownKeysAt('training-config', ['paddleocr']).sort(), [...KEYS].sort());
    assert.ok(knownKeysAt('training-config', []).includes('paddleocr'));
    assert.deepEqual(describeAt('training-config', ['model', 'type'])?.enum, ['baseline', 'lfm2-vl', 'deepseek-ocr', 'paddleocr']);
    assert.match(
      describeAt('training-config', ['model', 'type'])!.description!,
      /paddleocr \(fine-tunes a PP-OCR text recognizer in your PaddleOCR clone/,
    );
  });

  it('gives every key a description, and the contract’s defaults and bounds', () => {
    for (const key of KEYS) assert.ok(describeAt('training-config', ['paddleocr', key])?.description, key);
    const at = (key: string) => describeAt('training-config', ['paddleocr', key])!;
    assert.equal(at('base_config').default, DEFAULT_BASE_CONFIG);
    assert.equal(at('pretrained_model').default, null);
    assert.deepEqual(at('image_shape').default, [3, 48, 320]);
    assert.deepEqual([at('max_text_length').default, at('max_text_length').maximum], [25, 256]);
    assert.match(at('max_text_length').description!, new RegExp(`at least ${MIN_TEXT_LENGTH}`));
    assert.deepEqual(
      [at('synthetic_train_size').default, at('synthetic_train_size').minimum, at('synthetic_train_size').maximum],
      [512, 16, 1000000],
    );
    assert.deepEqual(at('overrides').default, {});
  });

  it('completes every paddleocr key not written yet, with its description', () => {
    const [text, offset] = cursor('model:\n  type: paddleocr\npaddleocr:\n  repo: ../PaddleOCR\n  |\n');
    const items = completionsAt(text, offset, { file });
    assert.deepEqual(items.map((item) => item.label).sort(), KEYS.filter((key) => key !== 'repo').sort());
    for (const item of items) assert.ok(item.documentation, item.label);
    const [root, rootOffset] = cursor('model:\n  type: paddleocr\npadd|\n');
    assert.ok(completionsAt(root, rootOffset, { file }).some((item) => item.label === 'paddleocr'));
  });

  it('hovers every paddleocr key', () => {
    const text = paddle(
      '  base_config: configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml\n  pretrained_model: null\n  image_shape: [3, 48, 320]\n' +
        '  max_text_length: 25\n  synthetic_train_size: 2000\n  overrides:\n    Optimizer.lr.learning_rate: 0.0005\n',
    );
    for (const key of KEYS) {
      const hover = hoverAt(text, text.indexOf(`${key}:`) + 1, { file });
      assert.ok(hover, key);
      assert.match(hover.markdown, new RegExp(`^\\*\\*${key}\\*\\*`), key);
    }
    const image = hoverAt(text, text.indexOf('image_shape:') + 1, { file })!;
    assert.match(image.markdown, /Default: `\[3,48,320\]`/);
    const override = hoverAt(text, text.indexOf('Optimizer.lr') + 1, { file })!;
    assert.match(override.markdown, /dotted path/);
    const overrides = hoverAt(text, text.indexOf('overrides:') + 1, { file })!;
    assert.match(overrides.markdown, /Example: `\{"Optimizer\.lr\.learning_rate":0\.0005\}`/, 'object examples are shown as JSON');
  });

  it('flags unknown keys inside paddleocr like elsewhere, with a suggestion', () => {
    const [problem] = validateText(paddle('  base_conifg: x.yml\n'), { file });
    assert.equal(problem!.code, 'unknown-key');
    assert.equal(problem!.severity, 'warning');
    assert.match(problem!.message, /Unknown key "base_conifg" in paddleocr; did you mean "base_config"\?/);
    assert.equal(problem!.fix?.replacement, 'base_config');
  });

  it('checks types and bounds: image_shape, synthetic_train_size, overrides', () => {
    assert.deepEqual(codes(paddle('  image_shape: [3, 48, 320]\n  synthetic_train_size: 16\n  max_text_length: 256\n')), []);
    assert.deepEqual(codes(paddle('  image_shape: [2, 48, 320]\n')), ['invalid-enum']);
    assert.deepEqual(codes(paddle('  image_shape: [3, 8, 4096]\n')), ['out-of-range', 'out-of-range']);
    assert.deepEqual(codes(paddle('  image_shape: [3, 48]\n')), ['invalid-value']);
    assert.deepEqual(codes(paddle('  synthetic_train_size: 15\n')), ['out-of-range']);
    assert.deepEqual(codes(paddle('  pretrained_model: 3\n')), ['wrong-type']);
    assert.deepEqual(
      codes(
        paddle('  overrides:\n    Optimizer.lr.learning_rate: 0.0005\n    Global.use_gpu: false\n    "Train.dataset.transforms": [1, a]\n'),
      ),
      [],
    );
    assert.deepEqual(codes(paddle('  overrides:\n    Global.x:\n      nested: 1\n')), ['wrong-type'], 'a mapping cannot be passed with -o');
    assert.deepEqual(codes(paddle('  overrides:\n    "Global.x=1": 1\n')), ['unknown-key'], 'not a dotted config key');
  });

  it('accepts the paddleocr training settings the trainer takes (learning_rate null: the base config’s)', () => {
    assert.deepEqual(codes(paddle('training:\n  learning_rate: null\n  max_minutes: null\n  device: cpu\n  precision: fp32\n')), []);
    assert.match(describeAt('training-config', ['training', 'max_steps'])!.description!, /paddleocr default: 2000/);
    assert.match(describeAt('training-config', ['training', 'batch_size'])!.description!, /paddleocr default: 16/);
    assert.match(describeAt('training-config', ['training', 'eval_every'])!.description!, /paddleocr default: 200/);
  });

  it('is valid draft-07 that names paddleocr at the top level only', () => {
    const schema = SCHEMAS['training-config'];
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.properties!.paddleocr!.additionalProperties, false);
  });
});
