import * as assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { facts, fixture, validateFixture } from './helpers';

// Users bring the existing vin_ocr project's files; any false error there would teach them to ignore us.
const existing = [
  ...readdirSync(fixture('existing', 'configs', 'models')).map((name) => fixture('existing', 'configs', 'models', name)),
  ...readdirSync(fixture('existing', 'configs'))
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => fixture('existing', 'configs', name)),
  fixture('training', 'baseline.yaml'),
];

describe('configs shaped like the existing vin_ocr project', () => {
  it('covers each kind of file', () => {
    assert.ok(existing.some((file) => file.endsWith('deepseek_ocr.yaml')));
    assert.ok(existing.some((file) => file.endsWith('liquidai.yaml')));
    assert.ok(existing.some((file) => file.endsWith('paddleocr.yaml')));
    assert.ok(existing.filter((file) => file.endsWith('_finetune.yaml')).length >= 3);
  });

  for (const file of existing) {
    it(`${file.slice(fixture().length + 1)} has no problems without hardware facts`, () => {
      assert.deepEqual(validateFixture(file), []);
    });
    it(`${file.slice(fixture().length + 1)} has no problems on an A100 with flash-attn`, () => {
      assert.deepEqual(validateFixture(file, { facts: facts('a100-flash') }), []);
    });
  }
});

describe('the bundled example training configs', () => {
  const examples = existsSync('examples') ? readdirSync('examples').filter((name) => /\.ya?ml$/.test(name)) : [];
  for (const name of examples) {
    it(`examples/${name} validates with no problems`, () => {
      assert.deepEqual(validateFixture(resolve('examples', name)), []);
    });
  }
});
