// The hardware contracts (schemas/hardware-facts.schema.json, doctor-report.schema.json) as types: facts in, doctor report out.
// Tests outside the project rely on these shapes; extend them only with optional fields.

export type OperatingSystem = 'linux' | 'darwin' | 'win32';
export type Architecture = 'x64' | 'arm64';
export type Platform = 'cuda' | 'mps' | 'cpu';
export type Attention = 'flash_attention_2' | 'sdpa' | 'eager';
export type Fit = 'optimal' | 'minimum' | 'insufficient';
export type Precision = 'bf16' | 'fp16' | 'fp32';

export interface GpuFacts {
  vendor: 'NVIDIA' | 'Apple' | 'AMD' | 'Intel' | string;
  name: string;
  vram_mib: number | null;
  compute_capability?: string | null;
}

/** What the trainer's own interpreter reports (`python -m vin_ocr hardware --json`). */
export interface PythonFacts {
  path: string;
  version: string;
  torch: string | null;
  cuda_available: boolean;
  mps_available: boolean;
  /** Real flash-attn version, "stub" for the stub package, null when absent. */
  flash_attn: string | null;
  /** The installed transformers version (package metadata, nothing imported), null when absent; older probes omit it. */
  transformers?: string | null;
  torch_cuda?: string | null;
  torch_error?: string;
  /** The CUDA devices torch itself sees (fills in a GPU's facts when nvidia-smi is missing or hangs). */
  cuda_devices?: Array<{ name: string; compute_capability: string; vram_mib: number }>;
  cuda_error?: string;
}

export interface HardwareFacts {
  os: OperatingSystem;
  arch: Architecture | string;
  cpu: { brand: string; cores: number };
  ram_bytes: number;
  gpus: GpuFacts[];
  nvidia_driver: string | null;
  cuda_driver_version: string | null;
  python: PythonFacts | null;
}

export interface DoctorWarning {
  code: string;
  message: string;
  fix: string;
}

export interface ModelVerdict {
  fit: Fit;
  platform: Platform;
  attention: Attention;
  reasons: string[];
  /** When the model is insufficient here: the cloud instances (data/requirements.json) on which it would fit, best first. */
  cloud?: Array<{ id: string; label: string; fit: Exclude<Fit, 'insufficient'> }>;
}

/** A model family's own environment as the doctor found it (DeepSeek-OCR's: transformers 4.46.x–4.47.x). */
export interface FamilyEnvironmentReport {
  /** Its interpreter. */
  python: string;
  /** Its transformers version (package metadata), null when absent or when it could not be asked. */
  transformers: string | null;
  /** Whether the family's code can be imported with that transformers. */
  usable: boolean;
  /** Why the interpreter could not be asked. */
  error?: string;
}

export interface DoctorReport {
  platform: Platform;
  attention: Attention;
  models: Record<string, ModelVerdict>;
  warnings: DoctorWarning[];
  precision?: Precision;
  /** Why the platform, attention and precision were chosen, in one sentence each. */
  explanations?: { platform: string; attention: string; precision: string };
  /** The family environments found on this machine, by family (`deepseek-ocr`); absent when none was looked for or found. */
  environments?: Record<string, FamilyEnvironmentReport>;
}
