// Realistic machines (as the collector reports them) for the hardware-feature unit tests.
import type { HardwareFacts } from '../../../src/core/hardware/types';

export const A10G_WITH_FLASH_ATTN: HardwareFacts = {
  os: 'linux',
  arch: 'x64',
  cpu: { brand: 'AMD EPYC 7R32', cores: 4 },
  ram_bytes: 16_469_962_752,
  gpus: [{ vendor: 'NVIDIA', name: 'NVIDIA A10G', vram_mib: 23_028, compute_capability: '8.6' }],
  nvidia_driver: '535.104.05',
  cuda_driver_version: '12.2',
  python: {
    path: '/opt/venv/bin/python',
    version: '3.11.9',
    torch: '2.6.0+cu124',
    cuda_available: true,
    mps_available: false,
    flash_attn: '2.7.3',
    torch_cuda: '12.4',
  },
};

export const T4_SDPA: HardwareFacts = {
  ...A10G_WITH_FLASH_ATTN,
  gpus: [{ vendor: 'NVIDIA', name: 'Tesla T4', vram_mib: 15_360, compute_capability: '7.5' }],
  python: { ...A10G_WITH_FLASH_ATTN.python!, flash_attn: null },
};

export const MAC_M2_16GB: HardwareFacts = {
  os: 'darwin',
  arch: 'arm64',
  cpu: { brand: 'Apple M2', cores: 8 },
  ram_bytes: 17_179_869_184,
  gpus: [{ vendor: 'Apple', name: 'Apple M2', vram_mib: null }],
  nvidia_driver: null,
  cuda_driver_version: null,
  python: {
    path: '/Users/me/.venv/bin/python',
    version: '3.11.9',
    torch: '2.6.0',
    cuda_available: false,
    mps_available: true,
    flash_attn: 'stub',
  },
};

export const CPU_ONLY_NO_PROBE: HardwareFacts = {
  os: 'linux',
  arch: 'x64',
  cpu: { brand: 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz', cores: 2 },
  ram_bytes: 8_000_000_000,
  gpus: [],
  nvidia_driver: null,
  cuda_driver_version: null,
  python: null,
};
