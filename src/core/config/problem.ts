// What validation reports: the `vin-ocr validate --json` contract (1-based lines and columns), plus an
// optional fix the editor offers as a quick fix. Codes are stable: docs/diagnostics.md has an anchor per code.

export type Severity = 'error' | 'warning' | 'info';

export const DIAGNOSTIC_CODES = [
  'yaml-syntax',
  'duplicate-key',
  'unknown-tag',
  'alias-limit',
  'too-deep',
  'file-too-large',
  'binary-file',
  'invalid-utf8',
  'not-a-config',
  'wrong-type',
  'out-of-range',
  'invalid-enum',
  'unknown-key',
  'missing-key',
  'invalid-value',
  'vram-order',
  'deepseek-sdpa',
  'attention-unavailable',
  'transformers-too-old',
  'transformers-too-new',
  'model-does-not-fit',
  'dataset-missing',
  'output-outside-workspace',
  'init-shape-mismatch',
  'init-checkpoint-missing',
  'distributed-no-endpoint',
  'distributed-nccl-without-cuda',
  'distributed-too-many-processes',
  'paddleocr-repo-missing',
  'paddleocr-not-a-clone',
  'paddleocr-base-config-missing',
  'paddleocr-max-text-length',
  'paddleocr-pretrained-url',
  'paddleocr-pretrained-missing',
  'paddleocr-mps',
  'paddleocr-precision',
  'paddleocr-distributed',
  'paddleocr-section-ignored',
] as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

/** A replacement for exactly the problem's range (a key or a scalar value), offered as a quick fix. */
export interface ProblemFix {
  title: string;
  /** A string is written in the quote style of the value it replaces; a number is written as a number. */
  replacement: string | number;
}

export interface Problem {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  fix?: ProblemFix;
}

/** The JSON contract has exactly these fields; the fix hint is an editor detail. */
export function toContractShape(problem: Problem): Omit<Problem, 'fix'> {
  const { file, line, column, endLine, endColumn, severity, code, message } = problem;
  return { file, line, column, endLine, endColumn, severity, code, message };
}

/** Where the explanation of a code lives, relative to the repository / extension root. */
export const DIAGNOSTICS_DOC = 'docs/diagnostics.md';
