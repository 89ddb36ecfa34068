import * as assert from 'node:assert/strict';
import { checkMinimum } from '../../../src/core/config/versions';

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
