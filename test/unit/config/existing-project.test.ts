import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isPaddleocrConfig, paddleCloneOf } from '../../../src/core/trainer/paddleocr';
import { parseConfigData } from '../../../src/core/trainer/training-config';
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

/** The PaddleOCR clone a paddleocr example names is the user's: the copy in ../shared stands in for it, where there is one. */
const VENDOR_CLONE = resolve('/work/shared/vendor/PaddleOCR');

function withUserClone(example: string): ((path: string) => boolean) | undefined {
  const data = parseConfigData(readFileSync(example, 'utf8'));
  const clone = isPaddleocrConfig(data) ? paddleCloneOf(example, data) : undefined;
  if (!clone) return undefined;
  return (path) =>
    path === clone || path.startsWith(`${clone}/`) ? existsSync(VENDOR_CLONE + path.slice(clone.length)) : existsSync(path);
}

describe('the bundled example training configs', () => {
  const examples = existsSync('examples') ? readdirSync('examples').filter((name) => /\.ya?ml$/.test(name)) : [];
  for (const name of examples) {
    it(`examples/${name} validates with no problems`, function () {
      const path = resolve('examples', name);
      const userClone = withUserClone(path);
      if (!userClone) return assert.deepEqual(validateFixture(path), []);
      // A paddleocr example names a clone next to the user's checkout: only its absence may be reported here.
      const problems = validateFixture(path).filter((problem) => problem.code !== 'paddleocr-repo-missing');
      assert.deepEqual(problems, []);
      if (!existsSync(VENDOR_CLONE)) return this.skip();
      assert.deepEqual(validateFixture(path, { fileExists: userClone }), [], 'with the clone in place');
    });
  }
});
