// The hardware policy: facts in, doctor report out. Pure and synchronous, so the badge, the panel,
// the CLI and the "check against a cloud instance" selector all give the same answer.
// The hardware policy (docs/architecture.md); the thresholds live in data/requirements.json.
import { cloudInstances, findModel, requirements, type ModelRequirements, type PlatformThresholds } from './requirements';
import type { Attention, DoctorReport, Fit, HardwareFacts, ModelVerdict, Platform, Precision } from './types';
import { computeCapability, cudaGpus, isAppleSilicon, primaryCudaGpu, torchMajor } from './gpus';
import { explainMemory, gbOfBytes, gbOfMib } from './memory';
import { platformWarnings } from './warnings';

/** Preference order for ties and for "best first": CUDA > MPS > CPU. */
const PLATFORM_ORDER: readonly Platform[] = ['cuda', 'mps', 'cpu'];
const ATTENTION_ORDER: readonly Attention[] = ['flash_attention_2', 'sdpa', 'eager'];
const FIT_RANK: Record<Fit, number> = { optimal: 2, minimum: 1, insufficient: 0 };
const PLATFORM_LABEL: Record<Platform, string> = { cuda: 'CUDA', mps: 'MPS', cpu: 'CPU' };
const DEEPSEEK_ID = 'deepseek-ai/DeepSeek-OCR';

/** What DeepSeek-OCR's real code needs off CUDA (measured: docs/deepseek-ocr.md), said with its verdict. */
export const DEEPSEEK_OFF_CUDA =
  'Off CUDA only eager attention runs for DeepSeek-OCR (its code refuses sdpa, and flash_attention_2 needs CUDA), ' +
  'and the trainer applies a device shim for the .cuda() calls hard-coded in its forward(); no flash_attn stub is needed.';

interface Decision<T> {
  value: T;
  reason: string;
}

/** True when the probe ran and found an importable torch (a broken torch counts as no torch). */
function hasProbedTorch(facts: HardwareFacts): boolean {
  return Boolean(facts.python?.torch);
}

// ---------- platform ----------

/** Why the hardware decides: no probe at all, or a probe that found no usable torch. */
function whyInferred(facts: HardwareFacts): string {
  if (!facts.python) return "the trainer's torch was not checked";
  return facts.python.torch_error
    ? "torch fails to import in the trainer's interpreter"
    : "torch is not installed in the trainer's interpreter yet";
}

function inferPlatformFromHardware(facts: HardwareFacts): Decision<Platform> {
  const gpu = primaryCudaGpu(facts);
  const why = whyInferred(facts);
  if (gpu && facts.nvidia_driver) {
    return { value: 'cuda', reason: `Inferred from the hardware: ${gpu.name} with NVIDIA driver ${facts.nvidia_driver} (${why}).` };
  }
  if (isAppleSilicon(facts)) return { value: 'mps', reason: `Inferred from the hardware: Apple Silicon Mac (${why}).` };
  if (gpu) return { value: 'cpu', reason: `${gpu.name} is present but no NVIDIA driver answered, so training falls back to the CPU.` };
  return { value: 'cpu', reason: 'No NVIDIA GPU and not an Apple Silicon Mac: training runs on the CPU.' };
}

/** CUDA > MPS > CPU, decided by what the trainer's torch really sees; inferred from the hardware without it. */
export function choosePlatform(facts: HardwareFacts): Decision<Platform> {
  const python = facts.python;
  if (!python || !hasProbedTorch(facts)) return inferPlatformFromHardware(facts);
  const torch = `torch ${python.torch}`;
  if (python.cuda_available) {
    const gpu = primaryCudaGpu(facts);
    return { value: 'cuda', reason: `The trainer's ${torch} sees CUDA${gpu ? ` on ${gpu.name}` : ''}.` };
  }
  if (python.mps_available) return { value: 'mps', reason: `The trainer's ${torch} sees Apple's MPS backend.` };
  if (cudaGpus(facts).length > 0) {
    return python.torch_cuda
      ? {
          value: 'cpu',
          reason: `The trainer's ${torch} is a CUDA build but cannot reach the NVIDIA GPU, so training would run on the CPU.`,
        }
      : { value: 'cpu', reason: `The trainer's ${torch} is a CPU-only build, so the NVIDIA GPU goes unused.` };
  }
  if (isAppleSilicon(facts)) {
    return { value: 'cpu', reason: `The trainer's ${torch} does not see MPS on this Apple Silicon Mac, so training runs on the CPU.` };
  }
  return { value: 'cpu', reason: `The trainer's ${torch} sees neither CUDA nor MPS: training runs on the CPU.` };
}

// ---------- attention ----------

/** The generic rule (LFM2.5-VL and other transformers models): flash_attention_2 > sdpa > eager. */
export function genericAttention(platform: Platform, facts: HardwareFacts): Decision<Attention> {
  if (platform === 'cpu') return { value: 'eager', reason: 'On the CPU training uses eager attention.' };
  const major = torchMajor(facts);
  if (major !== undefined && major < 2) {
    return { value: 'eager', reason: `torch ${facts.python?.torch} predates 2.0, which brought sdpa: eager attention.` };
  }
  const torchNote = major === undefined ? ' (assuming torch 2.0 or newer gets installed)' : '';
  if (platform === 'mps') return { value: 'sdpa', reason: `On MPS, torch's scaled-dot-product attention (sdpa)${torchNote}.` };

  const gpu = primaryCudaGpu(facts);
  const capability = computeCapability(gpu);
  const flashAttn = facts.python?.flash_attn ?? null;
  const capable = capability !== undefined && capability >= 8.0;
  if (capable && flashAttn && flashAttn !== 'stub' && major !== undefined) {
    return {
      value: 'flash_attention_2',
      reason: `flash-attn ${flashAttn} on ${gpu?.name} (compute capability ${gpu?.compute_capability}).`,
    };
  }
  let why: string;
  if (capability === undefined) why = 'the GPU compute capability is unknown, and flash-attn 2 needs 8.0 or newer';
  else if (!capable) why = `${gpu?.name} has compute capability ${gpu?.compute_capability}; flash-attn 2 needs 8.0 (Ampere) or newer`;
  else if (!facts.python) why = "flash-attn could not be checked without the trainer's interpreter; install it to use flash_attention_2";
  else if (flashAttn === 'stub') why = 'only the flash_attn stub is installed; install the real flash-attn to use flash_attention_2';
  else why = 'flash-attn is not installed; install it to use flash_attention_2';
  return { value: 'sdpa', reason: `sdpa on CUDA: ${why}${torchNote}.` };
}

/** The generic choice, stepped down to the best implementation the model supports (DeepSeek-OCR has no sdpa). */
function modelAttention(model: ModelRequirements, platform: Platform, facts: HardwareFacts): Decision<Attention> {
  if (model.attention.length === 0) {
    return { value: 'eager', reason: `${model.label} has no transformers attention layers: the setting does not apply.` };
  }
  const generic = genericAttention(platform, facts);
  const allowed = ATTENTION_ORDER.slice(ATTENTION_ORDER.indexOf(generic.value)).find((name) => model.attention.includes(name));
  if (allowed === generic.value) return generic;
  return {
    value: allowed ?? 'eager',
    reason: `${model.label} implements no ${generic.value}, so ${allowed ?? 'eager'}. ${generic.reason}`,
  };
}

// ---------- precision ----------

export function choosePrecision(platform: Platform, facts: HardwareFacts): Decision<Precision> {
  if (platform === 'cpu')
    return {
      value: 'fp32',
      reason: 'The CPU trains in fp32 (the baseline CRNN uses bf16 autocast where the processor has native bf16: AVX-512 BF16 or AMX).',
    };
  if (platform === 'mps') return { value: 'fp16', reason: 'MPS trains in fp16 mixed precision.' };
  const gpu = primaryCudaGpu(facts);
  const capability = computeCapability(gpu);
  if (capability === undefined)
    return { value: 'fp16', reason: 'The GPU compute capability is unknown; fp16 is safe everywhere (bf16 needs 8.0 or newer).' };
  if (capability >= 8.0) return { value: 'bf16', reason: `${gpu?.name} (compute capability ${gpu?.compute_capability}) supports bf16.` };
  return { value: 'fp16', reason: `${gpu?.name} (compute capability ${gpu?.compute_capability}) has no bf16 (needs 8.0 or newer): fp16.` };
}

// ---------- fit ----------

/** The memory a model can use on a platform, in decimal GB: one GPU's VRAM on CUDA, RAM on MPS (unified) and CPU. */
function memoryOn(platform: Platform, facts: HardwareFacts): { gb: number | undefined; what: string } {
  if (platform !== 'cuda') return { gb: gbOfBytes(facts.ram_bytes), what: platform === 'mps' ? 'unified memory' : 'RAM' };
  const gpu = primaryCudaGpu(facts);
  return { gb: gpu?.vram_mib == null ? undefined : gbOfMib(gpu.vram_mib), what: `VRAM on ${gpu?.name ?? 'the GPU'}` };
}

function fitFor(thresholds: PlatformThresholds, gb: number | undefined): Fit {
  if (gb === undefined) return 'insufficient';
  if (thresholds.optimal_gb !== undefined && gb >= thresholds.optimal_gb) return 'optimal';
  if (thresholds.minimum_gb !== undefined && gb >= thresholds.minimum_gb) return 'minimum';
  return 'insufficient';
}

/** Platforms training could use on this machine: the chosen one, and the CPU as the fallback. */
function usablePlatforms(platform: Platform): Platform[] {
  return platform === 'cpu' ? ['cpu'] : [platform, 'cpu'];
}

interface PlatformFit {
  platform: Platform;
  fit: Fit;
  reason: string;
}

function fitsOnPlatforms(model: ModelRequirements, facts: HardwareFacts, machinePlatform: Platform): PlatformFit[] {
  return usablePlatforms(machinePlatform)
    .filter((platform) => model.fit[platform] !== undefined)
    .map((platform) => {
      const thresholds = model.fit[platform]!;
      const memory = memoryOn(platform, facts);
      const fit = fitFor(thresholds, memory.gb);
      return { platform, fit, reason: `${PLATFORM_LABEL[platform]}: ${explainMemory(memory.gb, memory.what, thresholds)} → ${fit}.` };
    });
}

/** Best fit wins; ties (and an all-insufficient machine) prefer CUDA > MPS > CPU. */
function bestFit(fits: PlatformFit[]): PlatformFit | undefined {
  return [...fits].sort(
    (a, b) => FIT_RANK[b.fit] - FIT_RANK[a.fit] || PLATFORM_ORDER.indexOf(a.platform) - PLATFORM_ORDER.indexOf(b.platform),
  )[0];
}

function modelPlatformFit(model: ModelRequirements, facts: HardwareFacts): { best: PlatformFit; all: PlatformFit[]; machine: Platform } {
  const machine = choosePlatform(facts).value;
  const all = fitsOnPlatforms(model, facts, machine);
  // Every model in the data runs on the CPU; a model that somehow lists no usable platform is judged on the CPU.
  const best = bestFit(all) ?? {
    platform: 'cpu' as Platform,
    fit: 'insufficient' as Fit,
    reason: `${model.label} lists no platform this machine can use.`,
  };
  return { best, all, machine };
}

/** The cloud instances of data/requirements.json on which the model would fit, judged by this same policy; optimal first. */
function cloudSuggestions(model: ModelRequirements): NonNullable<ModelVerdict['cloud']> {
  return cloudInstances
    .map((instance) => ({ id: instance.id, label: instance.label, fit: modelPlatformFit(model, instance.facts).best.fit }))
    .filter((entry): entry is { id: string; label: string; fit: 'optimal' | 'minimum' } => entry.fit !== 'insufficient')
    .sort((a, b) => FIT_RANK[b.fit] - FIT_RANK[a.fit]);
}

function evaluateModel(model: ModelRequirements, facts: HardwareFacts, withCloud: boolean): ModelVerdict {
  const { best, all, machine } = modelPlatformFit(model, facts);
  const attention = modelAttention(model, best.platform, facts);
  const reasons = [best.reason, ...all.filter((fit) => fit !== best).map((fit) => fit.reason)];
  if (machine === 'mps' && model.fit.mps === undefined)
    reasons.push(`${model.label} has no MPS backend, so it runs on the CPU on Apple Silicon.`);
  reasons.push(attention.reason);
  if (model.id === DEEPSEEK_ID && best.platform !== 'cuda') reasons.push(DEEPSEEK_OFF_CUDA);
  const verdict: ModelVerdict = { fit: best.fit, platform: best.platform, attention: attention.value, reasons };
  if (best.fit === 'insufficient' && withCloud) {
    verdict.cloud = cloudSuggestions(model);
    if (verdict.cloud.length > 0)
      reasons.push(`Would fit on: ${verdict.cloud.map((entry) => `${entry.label} (${entry.fit})`).join(', ')}.`);
  }
  return verdict;
}

// ---------- the report ----------

/** The doctor report for a machine (real, recorded or hypothetical). Pure: same facts, same report. */
export function evaluatePolicy(facts: HardwareFacts): DoctorReport {
  const platform = choosePlatform(facts);
  const attention = genericAttention(platform.value, facts);
  const precision = choosePrecision(platform.value, facts);
  const models: Record<string, ModelVerdict> = {};
  for (const model of requirements) models[model.id] = evaluateModel(model, facts, true);
  return {
    platform: platform.value,
    attention: attention.value,
    precision: precision.value,
    models,
    warnings: platformWarnings(facts, platform.value),
    explanations: { platform: platform.reason, attention: attention.reason, precision: precision.reason },
  };
}

/** The attention a model would use on this machine (on the platform its fit chose), with the reason. */
export function attentionFor(model: string, facts: HardwareFacts): { attention: Attention; reason: string } {
  const requirementsOfModel = findModel(model);
  if (!requirementsOfModel) {
    const generic = genericAttention(choosePlatform(facts).value, facts);
    return { attention: generic.value, reason: `Unknown model "${model}": the generic rule. ${generic.reason}` };
  }
  const verdict = evaluateModel(requirementsOfModel, facts, false);
  const decision = modelAttention(requirementsOfModel, verdict.platform, facts);
  return { attention: decision.value, reason: decision.reason };
}
