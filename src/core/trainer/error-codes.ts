// The trainer's error codes: the `error.code` values of schemas/trainer-events.schema.json (the one source of truth,
// and trainer/vin_ocr/errors.py's constants), mirrored here and held equal to the schema by a unit test. The
// trainer sends a hint with every failure; the hints here are for the editor's and the CLI's own words, when a
// code needs an action the trainer cannot name (a command of the extension).

import { DEEPSEEK_ENVIRONMENT_INFO as DEEPSEEK } from './family-environments';
import { PADDLE_PYTHON_ENV } from './paddleocr';

export const TRAINER_ERROR_CODES = [
  'out_of_memory',
  'missing_dependency',
  'invalid_dataset',
  'invalid_config',
  'flash_attn_missing',
  'cuda_unavailable',
  'mps_unavailable',
  'checkpoint_invalid',
  'io_error',
  'internal_error',
  'paddle_missing',
  'paddleocr_clone_invalid',
  'paddleocr_deps_missing',
  'paddleocr_failed',
] as const;

export type TrainerErrorCode = (typeof TRAINER_ERROR_CODES)[number];

export function isTrainerErrorCode(value: unknown): value is TrainerErrorCode {
  return typeof value === 'string' && (TRAINER_ERROR_CODES as readonly string[]).includes(value);
}

/** Short hints for the PaddleOCR family's codes (the others' hints always come from the trainer). */
export const PADDLE_ERROR_HINTS: Readonly<Record<Extract<TrainerErrorCode, `paddle${string}`>, string>> = {
  paddle_missing:
    'PaddlePaddle is not installed in the PaddleOCR environment: run "VIN OCR: Set Up PaddleOCR Environment", ' +
    `or set vinOcr.paddleocr.pythonPath (${PADDLE_PYTHON_ENV} for the CLI) to a Python that has paddlepaddle.`,
  paddleocr_clone_invalid:
    'paddleocr.repo must be a PaddleOCR clone (tools/train.py and ppocr/): git clone https://github.com/PaddlePaddle/PaddleOCR.',
  paddleocr_deps_missing: 'Install <clone>/requirements.txt into the PaddleOCR environment (VIN OCR: Set Up PaddleOCR Environment does).',
  paddleocr_failed: "tools/train.py exited with an error; its last lines are in the message and the run's train.log.",
};

/** The hint for a code when the trainer sent none. */
export function fallbackHint(code: string | undefined): string | undefined {
  return code !== undefined && code in PADDLE_ERROR_HINTS ? PADDLE_ERROR_HINTS[code as keyof typeof PADDLE_ERROR_HINTS] : undefined;
}

/** Failures that setting up the PaddleOCR environment fixes: PaddlePaddle, or the clone's packages, are missing. */
export function needsPaddleEnvironment(code: string | undefined): boolean {
  return code === 'paddle_missing' || code === 'paddleocr_deps_missing';
}

/** What a failed run's state says, as far as the advice for it needs. */
export interface FailureFacts {
  errorCode?: string;
  errorMessage?: string;
  /** The last lines of the trainer's stderr. */
  tail?: readonly string[];
}

/**
 * Signs that the interpreter is the wrong environment for DeepSeek-OCR's code: a transformers it cannot import with
 * (4.48 removed LlamaFlashAttention2; the trainer refuses ≥ 4.48 itself), or a package of its environment missing.
 */
const WRONG_ENVIRONMENT =
  /LlamaFlashAttention2|cannot be imported by transformers|needs transformers 4\.46|No module named|has no module named|cannot import name/;

const MISSING_WEIGHTS = /Hugging Face|HF_HUB_OFFLINE|download|Could not load '/i;

/**
 * How a failed DeepSeek-OCR run is fixed, as measured on its real code (docs/deepseek-ocr.md): `environment` when it
 * ran outside its own environment (the trainer refuses transformers ≥ 4.48, or an import failed), `attention` when
 * flash_attention_2 was asked for where flash-attn 2 is not usable (eager runs everywhere; the flash-attn stub does
 * not help this model: its import is guarded, and with the stub the first forward fails), else undefined.
 */
export function deepseekFailureKind(facts: FailureFacts): 'environment' | 'attention' | undefined {
  if (facts.errorCode === 'flash_attn_missing') return 'attention';
  const text = [facts.errorMessage ?? '', ...(facts.tail ?? [])].join('\n');
  // missing_dependency also says that the model's weights could not be fetched: the network, not the environment.
  if (facts.errorCode === 'missing_dependency' && !MISSING_WEIGHTS.test(text)) return 'environment';
  if (
    (facts.errorCode === undefined || facts.errorCode === 'crashed' || facts.errorCode === 'internal_error') &&
    WRONG_ENVIRONMENT.test(text)
  )
    return 'environment';
  return undefined;
}

/** The measured advice for DeepSeek-OCR's flash_attn_missing, instead of the generic "install the stub". */
export const DEEPSEEK_ATTENTION_HINT =
  'DeepSeek-OCR loads without flash-attn (its code imports flash_attn only where flash-attn 2 is available): train with ' +
  'eager attention, which runs on CPU, MPS and CUDA; flash_attention_2 needs CUDA with compute capability 8.0+ and ' +
  'flash-attn 2 (pip install flash-attn==2.7.3 --no-build-isolation). The flash-attn stub does not help this model.';

/** The fix for a DeepSeek-OCR run that ran outside its own environment. */
export const DEEPSEEK_ENVIRONMENT_HINT =
  `DeepSeek-OCR trains in its own environment (transformers 4.46.3–4.47.x): "VIN OCR: ${DEEPSEEK.setUpTitle}" creates it, ` +
  `or set ${DEEPSEEK.setting} to one made by ${DEEPSEEK.setUpScript}.`;
