// Collects this machine's hardware facts from three sources in parallel: systeminformation,
// nvidia-smi and the trainer's probe. Each has its own timeout and degrades to "unknown" on its
// own; nothing here rejects. Results are cached per source, so a second call answers from memory
// and a new interpreter only re-runs the probe.
import { basicSystemFacts, collectSystemFacts, type SystemFacts } from './system-info';
import { queryNvidiaSmi, type NvidiaFacts } from './nvidia-smi';
import { probeArgs, runProbe } from './probe';
import type { GpuFacts, HardwareFacts, PythonFacts } from './types';

export type SourceName = 'systeminformation' | 'nvidia-smi' | 'python-probe';

export interface SourceReport {
  ms: number;
  ok: boolean;
  error?: string;
}

export interface CollectedFacts {
  facts: HardwareFacts;
  sources: Record<string, SourceReport>;
}

export interface FactsCollector {
  /** Facts for this machine with `pythonPath` as the trainer's interpreter; cached unless `force`. */
  collect(pythonPath: string | undefined, opts?: { force?: boolean }): Promise<CollectedFacts>;
}

export interface FactsCollectorOptions {
  /** The bundled trainer folder (holds the `vin_ocr` package the probe runs). */
  trainerDir: string;
  /** One timeout for every source, overriding the defaults below. */
  timeoutMs?: number;
  timeouts?: Partial<Record<SourceName, number>>;
  /** The nvidia-smi command (a recorded fake in tests). */
  nvidiaSmi?: string;
  /** The probe command after the interpreter (default `-m vin_ocr hardware --json`). */
  probeArgs?: string[];
  /** The systeminformation source (recorded output in tests). */
  systemInfo?: () => Promise<SystemFacts>;
}

/**
 * nvidia-smi answers in well under a second when healthy; a first `import torch` after an install
 * (cold disk, .pyc compilation, CUDA initialisation) can take many seconds, so the probe gets more.
 */
export const DEFAULT_TIMEOUTS: Record<SourceName, number> = { systeminformation: 5_000, 'nvidia-smi': 5_000, 'python-probe': 20_000 };

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: string; ms: number };

/** Runs a source with a deadline; whatever happens, resolves with a value or a readable error. */
async function timed<T>(work: () => Promise<T>, timeoutMs: number): Promise<Outcome<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const value = await Promise.race([Promise.resolve().then(work), deadline]);
    return { ok: true, value, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function report(outcome: Outcome<unknown>): SourceReport {
  return outcome.ok ? { ms: outcome.ms, ok: true } : { ms: outcome.ms, ok: false, error: outcome.error };
}

/**
 * The NVIDIA GPUs: nvidia-smi's list; when nvidia-smi gave none (missing, hung) torch's own list;
 * a compute capability an old driver could not report is taken from torch's matching device.
 */
function mergeGpus(nvidia: NvidiaFacts | undefined, python: PythonFacts | null): GpuFacts[] {
  const devices = python?.cuda_devices ?? [];
  if (!nvidia || nvidia.gpus.length === 0) return devices.map((device) => ({ vendor: 'NVIDIA', ...device }));
  return nvidia.gpus.map((gpu, index) => {
    if (gpu.compute_capability) return gpu;
    const match = devices.find((device) => device.name === gpu.name) ?? devices[index];
    return { ...gpu, compute_capability: match?.compute_capability ?? null };
  });
}

export function mergeFacts(system: SystemFacts, nvidia: NvidiaFacts | undefined, python: PythonFacts | null): HardwareFacts {
  return {
    os: system.os,
    arch: system.arch,
    cpu: system.cpu,
    ram_bytes: system.ram_bytes,
    // nvidia-smi describes NVIDIA cards better than systeminformation does, so theirs replace any listed there.
    gpus: [...system.gpus.filter((gpu) => !/nvidia/i.test(gpu.vendor)), ...mergeGpus(nvidia, python)],
    nvidia_driver: nvidia?.driver ?? null,
    cuda_driver_version: nvidia?.cudaVersion ?? null,
    python,
  };
}

function freshCopy(collected: CollectedFacts): CollectedFacts {
  // Callers may keep and change what they get; the cache must stay as collected.
  return structuredClone(collected);
}

export function createFactsCollector(options: FactsCollectorOptions): FactsCollector {
  const timeoutOf = (source: SourceName): number => options.timeoutMs ?? options.timeouts?.[source] ?? DEFAULT_TIMEOUTS[source];
  const nvidiaSmi = options.nvidiaSmi ?? 'nvidia-smi';
  const probeCommandArgs = options.probeArgs ?? probeArgs();
  const systemInfo = options.systemInfo ?? collectSystemFacts;

  let system: Promise<Outcome<SystemFacts>> | undefined;
  let nvidia: Promise<Outcome<NvidiaFacts>> | undefined;
  const probes = new Map<string, Promise<Outcome<PythonFacts>>>();
  let last: { pythonPath: string | undefined; collected: CollectedFacts } | undefined;

  async function collectNow(pythonPath: string | undefined, force: boolean): Promise<CollectedFacts> {
    if (force) {
      system = undefined;
      nvidia = undefined;
      probes.clear();
    }
    system ??= timed(systemInfo, timeoutOf('systeminformation'));
    nvidia ??= timed(() => queryNvidiaSmi(nvidiaSmi, timeoutOf('nvidia-smi')), timeoutOf('nvidia-smi'));
    let probe: Promise<Outcome<PythonFacts>> | undefined;
    if (pythonPath) {
      probe =
        probes.get(pythonPath) ??
        timed(() => runProbe(pythonPath, probeCommandArgs, options.trainerDir, timeoutOf('python-probe')), timeoutOf('python-probe'));
      probes.set(pythonPath, probe);
    }
    const [systemOutcome, nvidiaOutcome, probeOutcome] = await Promise.all([system, nvidia, probe]);
    const python = probeOutcome?.ok ? probeOutcome.value : null;
    const facts = mergeFacts(
      systemOutcome.ok ? systemOutcome.value : basicSystemFacts(),
      nvidiaOutcome.ok ? nvidiaOutcome.value : undefined,
      python,
    );
    return {
      facts,
      sources: {
        systeminformation: report(systemOutcome),
        'nvidia-smi': report(nvidiaOutcome),
        'python-probe': probeOutcome ? report(probeOutcome) : { ms: 0, ok: false, error: 'no Python interpreter was found' },
      },
    };
  }

  return {
    async collect(pythonPath, opts = {}) {
      const force = opts.force === true;
      if (!force && last && last.pythonPath === pythonPath) return freshCopy(last.collected);
      try {
        const collected = await collectNow(pythonPath, force);
        last = { pythonPath, collected };
        return freshCopy(collected);
      } catch (error) {
        // Unreachable by design (every source is wrapped), kept so a bug degrades instead of rejecting.
        const message = error instanceof Error ? error.message : String(error);
        return { facts: mergeFacts(basicSystemFacts(), undefined, null), sources: { collector: { ms: 0, ok: false, error: message } } };
      }
    },
  };
}
