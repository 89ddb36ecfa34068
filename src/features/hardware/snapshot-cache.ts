// The snapshot kept in globalState between windows. A value written by an older or newer version of the
// extension may not have today's shape, so it is only used when it does (pure: unit-tested in Node).
import type { HardwareSnapshot } from './state';

export const SNAPSHOT_CACHE_KEY = 'vinOcr.hardwareSnapshot.v1';

export function isSnapshot(value: unknown): value is HardwareSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const { facts, report } = value as Partial<HardwareSnapshot>;
  return (
    typeof facts === 'object' &&
    facts !== null &&
    Array.isArray(facts.gpus) &&
    typeof facts.ram_bytes === 'number' &&
    typeof facts.cpu === 'object' &&
    facts.cpu !== null &&
    typeof report === 'object' &&
    report !== null &&
    ['cuda', 'mps', 'cpu'].includes(report.platform) &&
    ['flash_attention_2', 'sdpa', 'eager'].includes(report.attention) &&
    typeof report.models === 'object' &&
    report.models !== null &&
    Array.isArray(report.warnings)
  );
}
