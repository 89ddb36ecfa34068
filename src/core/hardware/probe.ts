// The trainer's own view of its interpreter: `python -m vin_ocr hardware --json`, run with the
// bundled trainer first on PYTHONPATH so the probe matches the trainer that will really train.
import { delimiter } from 'node:path';
import type { PythonFacts } from './types';
import { runTool } from './run-tool';

export function probeArgs(): string[] {
  return ['-m', 'vin_ocr', 'hardware', '--json'];
}

export function probeEnvironment(trainerDir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const pythonPath = [trainerDir, base.PYTHONPATH].filter(Boolean).join(delimiter);
  // PYTHONNOUSERSITE: the user's ~/.local packages must not change what the venv reports.
  return { ...base, PYTHONPATH: pythonPath, PYTHONNOUSERSITE: '1', PYTHONIOENCODING: 'utf-8' };
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function cudaDevices(value: unknown): PythonFacts['cuda_devices'] {
  if (!Array.isArray(value)) return undefined;
  const devices = value.filter(
    (device): device is { name: string; compute_capability: string; vram_mib: number } =>
      typeof device === 'object' &&
      device !== null &&
      typeof device.name === 'string' &&
      typeof device.compute_capability === 'string' &&
      typeof device.vram_mib === 'number',
  );
  return devices.map(({ name, compute_capability, vram_mib }) => ({ name, compute_capability, vram_mib }));
}

/**
 * Reads the probe's JSON (the last line that is a JSON object: a noisy sitecustomize may print
 * before it). Throws on anything that is not the probe's contract.
 */
export function parseProbeOutput(stdout: string): PythonFacts {
  const line = stdout
    .split(/\r?\n/)
    .map((text) => text.trim())
    .reverse()
    .find((text) => text.startsWith('{'));
  if (!line) throw new Error(`the probe printed no JSON: ${JSON.stringify(stdout.trim().slice(0, 120))}`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`the probe printed malformed JSON: ${JSON.stringify(line.slice(0, 120))}`);
  }
  if (typeof raw.path !== 'string' || typeof raw.version !== 'string') throw new Error('the probe output lacks "path" and "version"');
  const facts: PythonFacts = {
    path: raw.path,
    version: raw.version,
    torch: optionalString(raw.torch),
    cuda_available: raw.cuda_available === true,
    mps_available: raw.mps_available === true,
    flash_attn: optionalString(raw.flash_attn),
    torch_cuda: optionalString(raw.torch_cuda),
  };
  // Older probes do not report transformers: the field stays absent then, rather than claiming "none installed".
  if ('transformers' in raw) facts.transformers = optionalString(raw.transformers);
  if (typeof raw.torch_error === 'string') facts.torch_error = raw.torch_error;
  if (typeof raw.cuda_error === 'string') facts.cuda_error = raw.cuda_error;
  const devices = cudaDevices(raw.cuda_devices);
  if (devices && devices.length > 0) facts.cuda_devices = devices;
  return facts;
}

/** Runs the probe; rejects with a readable message when the interpreter or the probe fails. */
export async function runProbe(command: string, args: readonly string[], trainerDir: string, timeoutMs: number): Promise<PythonFacts> {
  const result = await runTool(command, args, { timeoutMs, env: probeEnvironment(trainerDir) });
  if (!result.ok) {
    const detail = /No module named vin_ocr/.test(result.stderr) ? ` (the bundled trainer was not found in ${trainerDir})` : '';
    throw new Error(`${result.error ?? 'the probe failed'}${detail}`);
  }
  return parseProbeOutput(result.stdout);
}
