// What the status-bar badge says: pure text from a snapshot, so it is unit-tested without VS Code.
import type { Attention, HardwareFacts, Platform } from '../../core/hardware/types';
import type { HardwareSnapshot } from './state';

const PLATFORM_LABEL: Record<Platform, string> = { cuda: 'CUDA', mps: 'MPS', cpu: 'CPU' };
const ATTENTION_LABEL: Record<Attention, string> = { flash_attention_2: 'FA2', sdpa: 'SDPA', eager: 'eager' };
const ATTENTION_SPOKEN: Record<Attention, string> = {
  flash_attention_2: 'flash attention 2',
  sdpa: 'scaled dot product attention',
  eager: 'eager attention',
};

/** Memory in decimal GB, the unit the policy compares (a T4's 15,360 MiB is its nominal 16 GB). */
export function decimalGb(bytes: number): number {
  return Math.round(bytes / 1e9);
}

export function mibToDecimalGb(mib: number): number {
  return decimalGb(mib * 1_048_576);
}

/** RAM as the OS and the vendor label it: a 16 GiB Mac reads "16 GB" (the policy still compares decimal GB). */
export function ramGb(bytes: number): number {
  return Math.round(bytes / 1024 ** 3);
}

/** "NVIDIA A10G" → "A10G", "Tesla T4" → "T4", "NVIDIA GeForce RTX 4090" → "RTX 4090": the badge is short. */
export function shortGpuName(name: string): string {
  const short = name
    .replace(/\b(NVIDIA|Tesla|GeForce|Quadro|Corporation)\b/gi, '')
    .replace(/\s*-?\s*\d+\s*GB\b/i, '') // "A100-SXM4-40GB": the size is shown separately
    .replace(/\s+/g, ' ')
    .trim();
  return short || name.trim();
}

/** The CUDA GPU the platform uses (the first NVIDIA one), if any. */
function cudaGpu(facts: HardwareFacts) {
  return facts.gpus.find((gpu) => /nvidia/i.test(gpu.vendor)) ?? facts.gpus[0];
}

/** The middle part of the badge: what the training platform has to work with. */
function deviceSummary(snapshot: HardwareSnapshot): string | undefined {
  const { facts, report } = snapshot;
  if (report.platform === 'cuda') {
    const gpu = cudaGpu(facts);
    if (!gpu) return undefined;
    const size = gpu.vram_mib ? ` ${mibToDecimalGb(gpu.vram_mib)} GB` : '';
    return `${shortGpuName(gpu.name)}${size}`;
  }
  if (report.platform === 'mps') return facts.ram_bytes > 0 ? `${ramGb(facts.ram_bytes)} GB` : undefined;
  return undefined;
}

/** e.g. `CUDA · A10G 24 GB · FA2`, `MPS · 16 GB · SDPA`, `CPU · eager` (without the icon). */
export function badgeLabel(snapshot: HardwareSnapshot): string {
  const parts = [PLATFORM_LABEL[snapshot.report.platform], deviceSummary(snapshot), ATTENTION_LABEL[snapshot.report.attention]];
  return parts.filter((part): part is string => Boolean(part)).join(' · ');
}

/** The status-bar text: a chip when settled, a spinner while a probe runs (keeping the last known label). */
export function badgeText(snapshot: HardwareSnapshot | undefined, probing: boolean): string {
  const icon = probing ? '$(loading~spin)' : '$(chip)';
  if (!snapshot) return probing ? `${icon} VIN OCR: probing hardware…` : `${icon} VIN OCR: hardware unknown`;
  return `${icon} ${badgeLabel(snapshot)}`;
}

/** What a screen reader announces: words instead of abbreviations and icons. */
export function badgeAccessibilityLabel(snapshot: HardwareSnapshot | undefined, probing: boolean): string {
  const status = probing ? ' Probing hardware.' : '';
  if (!snapshot) return `VIN OCR hardware: not known yet.${status}`;
  const device = deviceSummary(snapshot);
  const platform = PLATFORM_LABEL[snapshot.report.platform];
  const attention = ATTENTION_SPOKEN[snapshot.report.attention];
  return `VIN OCR hardware: trains on ${platform}${device ? `, ${device}` : ''}, with ${attention}.${status}`;
}
