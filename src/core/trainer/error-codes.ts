// The trainer's error codes: the `error.code` values of schemas/trainer-events.schema.json (the one source of truth,
// and trainer/vin_ocr/errors.py's constants), mirrored here and held equal to the schema by a unit test. The
// trainer sends a hint with every failure; the hints here are for the editor's and the CLI's own words, when a
// code needs an action the trainer cannot name (a command of the extension).

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
