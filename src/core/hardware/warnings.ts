// Doctor warnings: each names a problem the user can fix, with a stable code (tests, docs and the
// panel key on it) and the exact command or setting that fixes it.
import { computeCapability, cudaGpus, isAppleSilicon, primaryCudaGpu, torchMajor } from './gpus';
import type { DoctorWarning, HardwareFacts, Platform } from './types';

export const WARNING_CODES = [
  'no-probe',
  'torch-missing',
  'torch-broken',
  'torch-too-old',
  'torch-cpu-only',
  'cuda-unavailable',
  'nvidia-driver-missing',
  'mps-unavailable',
  'compute-capability-unknown',
  'mixed-gpus',
  'flash-attn-missing',
  'flash-attn-stub-on-cuda',
  'flash-attn-unsupported-gpu',
  'cpu-slow',
  'transformers-too-new-for-deepseek',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

function warning(code: WarningCode, message: string, fix: string): DoctorWarning {
  return { code, message, fix };
}

/** `"/path/to/python" -m pip …`, quoted only when the path needs it, so the fix can be pasted as is. */
function pip(facts: HardwareFacts, args: string): string {
  const path = facts.python?.path ?? 'python';
  const quoted = /^[\w@%+=:,./-]+$/.test(path) ? path : `"${path.replace(/(["\\$`])/g, '\\$1')}"`;
  return `${quoted} -m pip ${args}`;
}

/** PyTorch's wheel index for the newest CUDA the driver supports (a wheel needs CUDA ≤ the driver's). */
export function torchCudaIndex(cudaDriverVersion: string | null): string | undefined {
  const match = /^(\d+)\.(\d+)/.exec(cudaDriverVersion ?? '');
  if (!match) return 'https://download.pytorch.org/whl/cu126';
  const version = Number(match[1]) * 100 + Number(match[2]);
  const tags: Array<[number, string]> = [
    [1208, 'cu128'],
    [1206, 'cu126'],
    [1204, 'cu124'],
    [1201, 'cu121'],
    [1108, 'cu118'],
  ];
  const tag = tags.find(([needed]) => version >= needed)?.[1];
  return tag ? `https://download.pytorch.org/whl/${tag}` : undefined;
}

/** The pip command that installs the torch build for a platform; `reinstall` replaces a wrong or broken build. */
function torchInstallFix(facts: HardwareFacts, platform: Platform, reinstall = false): string {
  const install = reinstall ? 'install --force-reinstall torch' : 'install torch';
  if (platform === 'cuda') {
    const index = torchCudaIndex(facts.cuda_driver_version);
    return index
      ? pip(facts, `${install} --index-url ${index}`)
      : `Update the NVIDIA driver (it supports only CUDA ${facts.cuda_driver_version}), then ${pip(facts, install)}`;
  }
  if (platform === 'mps') return pip(facts, install);
  return pip(facts, `${install} --index-url https://download.pytorch.org/whl/cpu`);
}

/** What the hardware alone suggests, for fixes that install torch (the probe could not say). */
function hardwarePlatform(facts: HardwareFacts): Platform {
  if (cudaGpus(facts).length > 0 && facts.nvidia_driver) return 'cuda';
  return isAppleSilicon(facts) ? 'mps' : 'cpu';
}

function torchWarnings(facts: HardwareFacts): DoctorWarning[] {
  const python = facts.python;
  if (!python) {
    return [
      warning(
        'no-probe',
        "The trainer's Python interpreter was not checked (none was found, or its probe failed), " +
          'so platform and attention are inferred from the hardware alone.',
        'Choose the interpreter you train with: the setting vinOcr.pythonPath in VS Code, or `vin-ocr doctor --python PATH`.',
      ),
    ];
  }
  if (python.torch_error) {
    return [
      warning(
        'torch-broken',
        `torch is installed in ${python.path} but fails to import: ${python.torch_error}`,
        torchInstallFix(facts, hardwarePlatform(facts), true),
      ),
    ];
  }
  if (!python.torch) {
    return [
      warning(
        'torch-missing',
        `torch is not installed in ${python.path}; nothing can train there yet.`,
        torchInstallFix(facts, hardwarePlatform(facts)),
      ),
    ];
  }
  const major = torchMajor(facts);
  if (major !== undefined && major < 2) {
    return [
      warning(
        'torch-too-old',
        `torch ${python.torch} predates 2.0: no sdpa attention, and current transformers releases need 2.0 or newer.`,
        pip(facts, 'install --upgrade "torch>=2.0"'),
      ),
    ];
  }
  return [];
}

function accessWarnings(facts: HardwareFacts): DoctorWarning[] {
  const python = facts.python;
  const gpus = cudaGpus(facts);
  const warnings: DoctorWarning[] = [];
  if (gpus.length > 0 && !facts.nvidia_driver && !python?.cuda_available) {
    warnings.push(
      warning(
        'nvidia-driver-missing',
        `${gpus[0]!.name} is present but no NVIDIA driver answered (nvidia-smi missing or failing).`,
        'Install the NVIDIA driver for this GPU, then check that `nvidia-smi` lists it.',
      ),
    );
  }
  if (!python?.torch || python.cuda_available || python.mps_available) return warnings;
  if (gpus.length > 0 && facts.nvidia_driver) {
    if (!python.torch_cuda) {
      warnings.push(
        warning(
          'torch-cpu-only',
          `The trainer's torch ${python.torch} is a CPU-only build: ${gpus[0]!.name} goes unused and training runs on the CPU.`,
          torchInstallFix(facts, 'cuda', true),
        ),
      );
    } else {
      const detail = python.cuda_error ? ` (${python.cuda_error})` : '';
      warnings.push(
        warning(
          'cuda-unavailable',
          `The trainer's torch ${python.torch} was built for CUDA ${python.torch_cuda} but cannot use the GPU${detail}; ` +
            `the driver supports CUDA ${facts.cuda_driver_version ?? 'unknown'}.`,
          `Update the NVIDIA driver to one that supports CUDA ${python.torch_cuda}, ` +
            `or install a torch build for the driver's CUDA: ${torchInstallFix(facts, 'cuda')}`,
        ),
      );
    }
  }
  if (isAppleSilicon(facts)) {
    warnings.push(
      warning(
        'mps-unavailable',
        `The trainer's torch ${python.torch} does not see MPS on this Apple Silicon Mac, so training runs on the CPU.`,
        'Use a native arm64 Python (not x86_64 under Rosetta) on macOS 12.3 or newer, with torch 2.0 or newer.',
      ),
    );
  }
  return warnings;
}

function gpuWarnings(facts: HardwareFacts, platform: Platform): DoctorWarning[] {
  if (platform !== 'cuda') return [];
  const warnings: DoctorWarning[] = [];
  const gpus = cudaGpus(facts);
  const primary = primaryCudaGpu(facts);
  const capability = computeCapability(primary);
  if (new Set(gpus.map((gpu) => `${gpu.name}|${gpu.vram_mib}`)).size > 1) {
    warnings.push(
      warning(
        'mixed-gpus',
        `This machine has different GPUs (${gpus.map((gpu) => gpu.name).join(', ')}); ` +
          `the report judges by ${primary?.name}, the one with the most memory.`,
        'Set CUDA_VISIBLE_DEVICES to the GPUs you train on, so training sees the card this report describes.',
      ),
    );
  }
  if (capability === undefined) {
    warnings.push(
      warning(
        'compute-capability-unknown',
        `The compute capability of ${primary?.name ?? 'the GPU'} is unknown, so flash_attention_2 and bf16 stay off.`,
        'Update the NVIDIA driver: nvidia-smi reports compute_cap from driver 510 onwards.',
      ),
    );
    return warnings;
  }
  const flashAttn = facts.python?.flash_attn ?? null;
  if (!facts.python) return warnings;
  if (capability >= 8.0 && flashAttn === null) {
    warnings.push(
      warning(
        'flash-attn-missing',
        `${primary?.name} supports flash_attention_2 but flash-attn is not installed: ` +
          'attention falls back to sdpa (eager for DeepSeek-OCR).',
        pip(facts, 'install flash-attn==2.7.3 --no-build-isolation'),
      ),
    );
  } else if (capability >= 8.0 && flashAttn === 'stub') {
    warnings.push(
      warning(
        'flash-attn-stub-on-cuda',
        `Only the flash_attn stub is installed, on a GPU (${primary?.name}) that can run the real flash-attn 2.`,
        `${pip(facts, 'uninstall -y flash-attn-stub')} && ${pip(facts, 'install flash-attn==2.7.3 --no-build-isolation')}`,
      ),
    );
  } else if (capability < 8.0 && flashAttn !== null && flashAttn !== 'stub') {
    warnings.push(
      warning(
        'flash-attn-unsupported-gpu',
        `flash-attn ${flashAttn} is installed, but ${primary?.name} has compute capability ${primary?.compute_capability}; ` +
          'flash-attn 2 needs 8.0 or newer, so it is not used.',
        'Nothing is required (sdpa, or eager for DeepSeek-OCR, is used); ' +
          `${pip(facts, 'uninstall -y flash-attn')} avoids confusing import errors.`,
      ),
    );
  }
  return warnings;
}

// DeepSeek-OCR needs no flash_attn stub on MPS or the CPU: its code imports flash_attn only where flash-attn 2 is
// available, and loads without it (measured on the real code: docs/deepseek-ocr.md). What it needs there (eager
// attention, the trainer's device shim) is said in its verdict's reasons, not as a warning.
function modelWarnings(platform: Platform): DoctorWarning[] {
  const warnings: DoctorWarning[] = [];
  if (platform === 'cpu') {
    warnings.push(
      warning(
        'cpu-slow',
        'Training runs on the CPU: very slow, fine for the baseline model and for testing only.',
        'Train the large models on an NVIDIA GPU: see the cloud instances suggested for each model.',
      ),
    );
  }
  return warnings;
}

/**
 * Where DeepSeek-OCR's own environment comes from (core/trainer/family-environments.ts names the same command and
 * script). Its runs never use the trainer's interpreter, so that interpreter's transformers is no warning; the doctor
 * warns (`transformers-too-new-for-deepseek`, family-environment-report.ts) when the environment found cannot import
 * DeepSeek-OCR's code.
 */
export const DEEPSEEK_ENVIRONMENT_FIX =
  'Set up DeepSeek-OCR\'s environment again: "VIN OCR: Set Up DeepSeek-OCR Environment" for VS Code, or ' +
  'scripts/setup-deepseek.sh (.deepseek-venv, which vin-ocr train finds; or pass --deepseek-python PATH).';

/** Every warning that applies to this machine, most fundamental first. */
export function platformWarnings(facts: HardwareFacts, platform: Platform): DoctorWarning[] {
  return [...torchWarnings(facts), ...accessWarnings(facts), ...gpuWarnings(facts, platform), ...modelWarnings(platform)];
}
