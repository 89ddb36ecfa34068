import * as assert from 'node:assert/strict';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { isSnapshot } from '../../../src/features/hardware/snapshot-cache';
import { CPU_ONLY_NO_PROBE } from './machines';

describe('cached hardware snapshot', () => {
  it('accepts what the extension stores (after a JSON round trip, as globalState does)', () => {
    const stored = JSON.parse(
      JSON.stringify({ facts: CPU_ONLY_NO_PROBE, report: evaluatePolicy(CPU_ONLY_NO_PROBE), collectedAt: '2026-11-28T18:00:00Z' }),
    );
    assert.ok(isSnapshot(stored));
  });

  it('ignores values of another shape instead of showing garbage in the badge', () => {
    const report = evaluatePolicy(CPU_ONLY_NO_PROBE);
    for (const value of [
      undefined,
      null,
      42,
      'cpu',
      {},
      { facts: CPU_ONLY_NO_PROBE },
      { facts: CPU_ONLY_NO_PROBE, report: { ...report, platform: 'tpu' } },
      { facts: { ...CPU_ONLY_NO_PROBE, gpus: 'none' }, report },
    ]) {
      assert.equal(isSnapshot(value), false, JSON.stringify(value));
    }
  });
});
