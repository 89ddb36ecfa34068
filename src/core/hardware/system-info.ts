// CPU, memory and (on macOS) the GPUs, from systeminformation: only the calls needed, in parallel.
// graphics() is slow and on Linux/Windows adds nothing nvidia-smi does not say better, so it runs
// only on macOS, where it is how Apple Silicon and AMD GPUs are found.
import * as os from 'node:os';
import type { GpuFacts, HardwareFacts } from './types';

export type SystemFacts = Pick<HardwareFacts, 'os' | 'arch' | 'cpu' | 'ram_bytes' | 'gpus'>;

function operatingSystem(): HardwareFacts['os'] {
  return process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux';
}

/** What Node knows without asking anyone: the floor when systeminformation fails or hangs. */
export function basicSystemFacts(): SystemFacts {
  const cpus = os.cpus();
  return {
    os: operatingSystem(),
    arch: process.arch,
    cpu: { brand: cpus[0]?.model.trim() || 'unknown', cores: cpus.length || os.availableParallelism() },
    ram_bytes: os.totalmem(),
    gpus: [],
  };
}

function vendorOf(vendor: string, model: string): string {
  const text = `${vendor} ${model}`;
  if (/apple/i.test(text)) return 'Apple';
  if (/nvidia/i.test(text)) return 'NVIDIA';
  if (/amd|ati|radeon/i.test(text)) return 'AMD';
  if (/intel/i.test(text)) return 'Intel';
  return vendor || 'unknown';
}

/** systeminformation's graphics controllers as GPU facts (VRAM is dynamic, so unknown, on Apple Silicon). */
export function gpusFromControllers(
  controllers: ReadonlyArray<{ vendor?: string; model?: string; vram?: number | null; vramDynamic?: boolean }>,
): GpuFacts[] {
  return controllers
    .filter((controller) => controller.model)
    .map((controller) => ({
      vendor: vendorOf(controller.vendor ?? '', controller.model ?? ''),
      name: controller.model!.trim(),
      vram_mib: controller.vramDynamic || !controller.vram ? null : controller.vram,
    }));
}

export async function collectSystemFacts(): Promise<SystemFacts> {
  // Imported lazily: loading systeminformation costs tens of milliseconds, kept off activation.
  const si = await import('systeminformation');
  const basic = basicSystemFacts();
  const [cpu, mem, graphics] = await Promise.all([si.cpu(), si.mem(), basic.os === 'darwin' ? si.graphics() : Promise.resolve(undefined)]);
  const brand = [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ').trim();
  return {
    ...basic,
    cpu: { brand: brand || basic.cpu.brand, cores: cpu.cores || basic.cpu.cores },
    ram_bytes: mem.total || basic.ram_bytes,
    gpus: graphics ? gpusFromControllers(graphics.controllers) : [],
  };
}
