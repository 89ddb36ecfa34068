import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  fallbackHint,
  isTrainerErrorCode,
  needsPaddleEnvironment,
  PADDLE_ERROR_HINTS,
  TRAINER_ERROR_CODES,
} from '../../../src/core/trainer/error-codes';

const schema = JSON.parse(readFileSync('schemas/trainer-events.schema.json', 'utf8'));

describe('trainer error codes', () => {
  it('mirror the error.code enum of schemas/trainer-events.schema.json exactly', () => {
    assert.deepEqual([...TRAINER_ERROR_CODES], schema.definitions.error.properties.code.enum);
  });

  it("are the trainer's own constants (trainer/vin_ocr/errors.py)", () => {
    const python = readFileSync('trainer/vin_ocr/errors.py', 'utf8');
    const constants = [...python.matchAll(/^[A-Z][A-Z_]* = "([a-z_]+)"$/gm)].map((match) => match[1]);
    assert.deepEqual(constants.sort(), [...TRAINER_ERROR_CODES].sort());
  });

  it('spell the PaddleOCR codes like the others (snake_case)', () => {
    for (const code of TRAINER_ERROR_CODES) assert.match(code, /^[a-z0-9]+(_[a-z0-9]+)*$/, code);
    for (const code of ['paddle_missing', 'paddleocr_clone_invalid', 'paddleocr_deps_missing', 'paddleocr_failed'])
      assert.ok(isTrainerErrorCode(code), code);
    assert.equal(isTrainerErrorCode('paddle-missing'), false);
  });

  it('offer "Set Up PaddleOCR Environment" where it fixes the failure, and only there', () => {
    assert.deepEqual(
      TRAINER_ERROR_CODES.filter((code) => needsPaddleEnvironment(code)),
      ['paddle_missing', 'paddleocr_deps_missing'],
    );
    assert.equal(needsPaddleEnvironment(undefined), false);
  });

  it('have short hints for the PaddleOCR codes, used only when the trainer sent none', () => {
    assert.match(fallbackHint('paddle_missing')!, /Set Up PaddleOCR Environment.*vinOcr\.paddleocr\.pythonPath/);
    assert.match(fallbackHint('paddleocr_deps_missing')!, /requirements\.txt into the PaddleOCR environment/);
    assert.match(fallbackHint('paddleocr_clone_invalid')!, /git clone https:\/\/github\.com\/PaddlePaddle\/PaddleOCR/);
    assert.match(fallbackHint('paddleocr_failed')!, /tools\/train\.py exited with an error/);
    assert.equal(Object.keys(PADDLE_ERROR_HINTS).length, 4);
    assert.equal(fallbackHint('out_of_memory'), undefined);
    assert.equal(fallbackHint(undefined), undefined);
  });
});
