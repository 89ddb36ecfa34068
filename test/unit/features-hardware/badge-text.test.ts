import * as assert from 'node:assert/strict';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { badgeAccessibilityLabel, badgeText, shortGpuName } from '../../../src/features/hardware/badge-text';
import type { HardwareSnapshot } from '../../../src/features/hardware/state';
import { A10G_WITH_FLASH_ATTN, CPU_ONLY_NO_PROBE, MAC_M2_16GB, T4_SDPA } from './machines';
import type { HardwareFacts } from '../../../src/core/hardware/types';

const snapshotOf = (facts: HardwareFacts): HardwareSnapshot => ({ facts, report: evaluatePolicy(facts) });

describe('status-bar badge text', () => {
  it('names the CUDA GPU, its nominal decimal-GB memory and flash attention', () => {
    assert.equal(badgeText(snapshotOf(A10G_WITH_FLASH_ATTN), false), '$(chip) CUDA · A10G 24 GB · FA2');
  });

  it("shows a T4's 15,360 MiB as its nominal 16 GB, with SDPA (flash-attn 2 needs compute capability 8.0)", () => {
    assert.equal(badgeText(snapshotOf(T4_SDPA), false), '$(chip) CUDA · T4 16 GB · SDPA');
  });

  it('shows unified memory on Apple Silicon as sold: a 16 GiB Mac reads 16 GB', () => {
    assert.equal(badgeText(snapshotOf(MAC_M2_16GB), false), '$(chip) MPS · 16 GB · SDPA');
  });

  it('says CPU and eager on a machine without a GPU', () => {
    assert.equal(badgeText(snapshotOf(CPU_ONLY_NO_PROBE), false), '$(chip) CPU · eager');
  });

  it('keeps the last label but spins while a probe runs', () => {
    assert.equal(badgeText(snapshotOf(CPU_ONLY_NO_PROBE), true), '$(loading~spin) CPU · eager');
    assert.equal(badgeText(undefined, true), '$(loading~spin) VIN OCR: probing hardware…');
    assert.equal(badgeText(undefined, false), '$(chip) VIN OCR: hardware unknown');
  });

  it('gives screen readers words, not abbreviations or icon names', () => {
    const label = badgeAccessibilityLabel(snapshotOf(A10G_WITH_FLASH_ATTN), true);
    assert.equal(label, 'VIN OCR hardware: trains on CUDA, A10G 24 GB, with flash attention 2. Probing hardware.');
    assert.doesNotMatch(label, /\$\(/);
  });

  it('shortens vendor-heavy GPU names and keeps unknown ones', () => {
    assert.equal(shortGpuName('NVIDIA GeForce RTX 4090'), 'RTX 4090');
    assert.equal(shortGpuName('NVIDIA A100-SXM4-40GB'), 'A100-SXM4');
    assert.equal(shortGpuName('NVIDIA'), 'NVIDIA');
  });
});
