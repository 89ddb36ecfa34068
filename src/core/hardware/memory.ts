// Memory is compared in decimal GB (bytes / 10^9) because that is how GPUs and Macs are sold:
// a T4's 15,360 MiB is its nominal "16 GB", a 16 GiB Mac is 17.2 GB and so counts as 16 GB.
import type { PlatformThresholds } from './requirements';

const BYTES_PER_GB = 1e9;
const BYTES_PER_MIB = 1_048_576;

export function gbOfBytes(bytes: number): number {
  return bytes / BYTES_PER_GB;
}

/** nvidia-smi reports MiB. */
export function gbOfMib(mib: number): number {
  return (mib * BYTES_PER_MIB) / BYTES_PER_GB;
}

/** Rounded down to two decimals so a figure never reads as above a threshold it misses (7.999 → "7.99"). */
export function formatGb(gb: number): string {
  return `${String(Math.floor(gb * 100) / 100)} GB`;
}

/** "16.1 GB VRAM on Tesla T4 (optimal ≥ 16 GB, minimum ≥ 8 GB)". */
export function explainMemory(gb: number | undefined, what: string, thresholds: PlatformThresholds): string {
  const limits = [
    thresholds.optimal_gb !== undefined ? `optimal ≥ ${thresholds.optimal_gb} GB` : undefined,
    thresholds.minimum_gb !== undefined ? `minimum ≥ ${thresholds.minimum_gb} GB` : undefined,
  ].filter(Boolean);
  const amount = gb === undefined ? `${what} unknown` : `${formatGb(gb)} ${what}`;
  return `${amount} (${limits.join(', ')})`;
}
