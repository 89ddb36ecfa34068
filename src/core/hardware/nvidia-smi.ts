// NVIDIA GPUs from `nvidia-smi`: name, memory (MiB), driver and compute capability from a CSV
// query, and the driver's CUDA version from the plain table's header (no query field carries it).
import type { GpuFacts } from './types';
import { runTool, type ToolResult } from './run-tool';

export interface NvidiaFacts {
  gpus: GpuFacts[];
  driver: string | null;
  cudaVersion: string | null;
}

const QUERY_FIELDS = ['name', 'memory.total', 'driver_version', 'compute_cap'];

export function queryArgs(withComputeCapability: boolean): string[] {
  const fields = withComputeCapability ? QUERY_FIELDS : QUERY_FIELDS.slice(0, 3);
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
}

/** Values nvidia-smi prints for a field it cannot read. */
function isUnavailable(value: string): boolean {
  return /^(\[?N\/A\]?|\[Not Supported\]|\[Unknown Error\]|)$/i.test(value.trim());
}

/**
 * Parses `name, memory.total, driver_version[, compute_cap]` lines. Throws on anything else, so
 * garbage output is reported as such instead of turning into a made-up GPU.
 */
export function parseGpuQuery(stdout: string, withComputeCapability: boolean): { gpus: GpuFacts[]; driver: string | null } {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length === 0) throw new Error('nvidia-smi listed no GPUs');
  const expected = withComputeCapability ? 4 : 3;
  let driver: string | null = null;
  const gpus = lines.map((line) => {
    // GPU names contain no commas; split from the right anyway so a future name with one survives.
    const parts = line.split(',').map((part) => part.trim());
    if (parts.length < expected) throw new Error(`unrecognised nvidia-smi line: ${JSON.stringify(line.slice(0, 120))}`);
    const tail = parts.splice(parts.length - (expected - 1));
    const name = parts.join(', ');
    const [memory, driverVersion, capability] = tail as [string, string, string | undefined];
    const vram = isUnavailable(memory) ? null : Number(memory);
    if (!name || (vram !== null && (!Number.isFinite(vram) || vram < 0))) {
      throw new Error(`unrecognised nvidia-smi line: ${JSON.stringify(line.slice(0, 120))}`);
    }
    if (!isUnavailable(driverVersion)) {
      if (!/^\d+(\.\d+)+$/.test(driverVersion))
        throw new Error(`unrecognised driver version ${JSON.stringify(driverVersion.slice(0, 40))}`);
      driver ??= driverVersion;
    }
    const computeCapability = capability !== undefined && /^\d+\.\d$/.test(capability) ? capability : null;
    return { vendor: 'NVIDIA', name, vram_mib: vram, compute_capability: computeCapability };
  });
  return { gpus, driver };
}

/** "CUDA Version: 12.2" from the header of plain `nvidia-smi`. */
export function parseCudaVersion(stdout: string): string | null {
  return /CUDA Version\s*:\s*(\d+\.\d+)/.exec(stdout)?.[1] ?? null;
}

function isUnknownFieldError(result: ToolResult): boolean {
  return /not a valid field/i.test(`${result.stdout}\n${result.stderr}`);
}

/** Runs nvidia-smi; rejects (with a readable message) when it is missing, failing, hanging or prints garbage. */
export async function queryNvidiaSmi(command: string, timeoutMs: number): Promise<NvidiaFacts> {
  const [query, table] = await Promise.all([runTool(command, queryArgs(true), { timeoutMs }), runTool(command, [], { timeoutMs })]);
  let withCapability = true;
  let answer = query;
  if (!query.ok && isUnknownFieldError(query)) {
    // Drivers before 510 do not know compute_cap: ask again without it (the probe can fill it in).
    withCapability = false;
    answer = await runTool(command, queryArgs(false), { timeoutMs });
  }
  const said = `${answer.stdout}\n${answer.stderr}`;
  // A driver without GPUs (all passed through to VMs, or removed) is an answer, not a failure.
  if (/No devices were found/i.test(said)) return { gpus: [], driver: null, cudaVersion: null };
  if (!answer.ok) {
    const firstLine = said.trim().split('\n')[0]?.slice(0, 200) ?? '';
    throw new Error(firstLine && !answer.error?.includes(firstLine) ? `${answer.error} (${firstLine})` : answer.error);
  }
  const { gpus, driver } = parseGpuQuery(answer.stdout, withCapability);
  return { gpus, driver, cudaVersion: table.ok ? parseCudaVersion(table.stdout) : null };
}
