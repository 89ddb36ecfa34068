// Reading GPU and torch facts the same way everywhere in the policy and its warnings.
import type { GpuFacts, HardwareFacts } from './types';

export function isNvidia(gpu: GpuFacts): boolean {
  return /nvidia/i.test(gpu.vendor);
}

/** The CUDA devices: nvidia-smi's list, else what torch itself reported (nvidia-smi missing or hung). */
export function cudaGpus(facts: HardwareFacts): GpuFacts[] {
  const listed = facts.gpus.filter(isNvidia);
  if (listed.length > 0) return listed;
  return (facts.python?.cuda_devices ?? []).map((device) => ({ vendor: 'NVIDIA', ...device }));
}

/** The GPU the policy judges by: the one with the most VRAM (a model must fit on one card). */
export function primaryCudaGpu(facts: HardwareFacts): GpuFacts | undefined {
  return cudaGpus(facts).reduce<GpuFacts | undefined>(
    (best, gpu) => (best === undefined || (gpu.vram_mib ?? -1) > (best.vram_mib ?? -1) ? gpu : best),
    undefined,
  );
}

/** "8.6" → 8.6; anything unparsable → undefined (unknown, never guessed). */
export function computeCapability(gpu: GpuFacts | undefined): number | undefined {
  const match = /^(\d+)\.(\d)$/.exec(gpu?.compute_capability?.trim() ?? '');
  return match ? Number(match[1]) + Number(match[2]) / 10 : undefined;
}

/** The probed torch's major version; undefined when torch was not probed or is missing. */
export function torchMajor(facts: HardwareFacts): number | undefined {
  const match = /^(\d+)\./.exec(facts.python?.torch ?? '');
  return match ? Number(match[1]) : undefined;
}

export function isAppleSilicon(facts: HardwareFacts): boolean {
  return facts.os === 'darwin' && facts.arch === 'arm64';
}
