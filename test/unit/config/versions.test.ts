import * as assert from 'node:assert/strict';
import { checkCeiling, checkMinimum } from '../../../src/core/config/versions';

describe('pip version specifiers against a minimum', () => {
  const cases: Array<[string, boolean, boolean]> = [
    // specifier, onlyTooOld, allowsTooOld
    ['==4.46.3', true, true],
    ['>=4.40.0', false, true],
    ['>=4.57.0', false, false],
    ['>=4.57,<5', false, false],
    ['<4.50', true, true],
    ['<4.57', true, true],
    ['~=4.46', false, true], // 4.46 ≤ v < 5: 4.57 is allowed
    ['~=4.46.0', true, true], // 4.46.0 ≤ v < 4.47
    ['~=4.57', false, false],
    ['==4.*', false, true],
    ['==5.0.0', false, false],
    ['*', false, true],
  ];
  for (const [specifier, onlyTooOld, allowsTooOld] of cases) {
    it(`"${specifier}" vs 4.57.0`, () => {
      assert.deepEqual(checkMinimum(specifier, '4.57.0'), { onlyTooOld, allowsTooOld });
    });
  }
});

describe('pip version specifiers against a ceiling (the first release that no longer works)', () => {
  const cases: Array<[string, boolean, boolean]> = [
    // specifier, onlyTooNew, allowsTooNew — against 4.48 (DeepSeek-OCR's code cannot be imported from it on)
    ['==4.46.3', false, false],
    ['>=4.46.3,<4.48', false, false],
    ['~=4.46.3', false, false], // 4.46.3 ≤ v < 4.47
    ['==4.47.*', false, false],
    ['<=4.47.1', false, false],
    ['>=4.46.3', false, true],
    ['>=4.46.3,<=4.48', false, true], // 4.48 itself is allowed
    ['>=4.46.3,<4.48.1', false, true], // 4.48.0 is allowed
    ['~=4.46', false, true], // 4.46 ≤ v < 5
    ['>4.47', false, true],
    ['*', false, true],
    ['!=4.47.0', false, true],
    ['>=4.48', true, true],
    ['>4.48', true, true],
    ['>=4.48.0,<5', true, true],
    ['==4.57.1', true, true],
    ['==4.48.*', true, true],
    ['~=4.57', true, true],
    ['latest', false, false], // not understood: never an alarm
  ];
  for (const [specifier, onlyTooNew, allowsTooNew] of cases) {
    it(`"${specifier}" vs 4.48`, () => {
      assert.deepEqual(checkCeiling(specifier, '4.48'), { onlyTooNew, allowsTooNew });
    });
  }
});
