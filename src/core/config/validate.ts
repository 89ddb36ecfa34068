// The one entry point: YAML text (or raw bytes) in, 1-based problems out. Pure apart from the injected
// `fileExists`, so the editor, the CLI and the tests get exactly the same answers.
import type { HardwareFacts } from '../hardware/types';
import type { Finding } from './finding';
import { KIND_LABELS, kindFromData, kindFromModeline, kindFromPath, type ConfigKind, type KindOptions } from './kinds';
import { MAX_PROBLEMS, MAX_TEXT_LENGTH } from './limits';
import { parseConfigText } from './parse';
import { TextPositions } from './positions';
import type { Problem } from './problem';
import { checkRules } from './rules';
import { checkAgainstSchema } from './schema-check';

export interface ValidateOptions extends KindOptions {
  /** Path shown in problems and used to resolve relative dataset paths. */
  file: string;
  /** The machine to judge hardware rules against; without it those rules stay silent. */
  facts?: HardwareFacts;
  workspaceRoot?: string;
  fileExists?: (absolutePath: string) => boolean;
  /** Report a file that is no VIN OCR config (the CLI does; the editor simply skips such files). */
  reportUnrecognised?: boolean;
  /** false: always use the full `yaml` parser (tests and the benchmark compare both paths). */
  fastPath?: boolean;
}

export function validateText(text: string, options: ValidateOptions): Problem[] {
  const positions = new TextPositions(text);
  return toProblems(findingsFor(text, options), positions, options.file);
}

/** Bytes from disk: binary files and invalid UTF-8 are problems, not exceptions. A UTF-8 BOM is dropped, as VS Code does. */
export function validateBytes(bytes: Uint8Array, options: ValidateOptions): Problem[] {
  if (bytes.subarray(0, 8192).includes(0)) {
    return [problemAtStart(options.file, 'binary-file', 'File contains NUL bytes: it is binary, not YAML.')];
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const bad = lossy.indexOf('\uFFFD');
    const { line, column } = new TextPositions(lossy).at(Math.max(0, bad));
    return [
      {
        file: options.file,
        line,
        column,
        endLine: line,
        endColumn: column + 1,
        severity: 'error',
        code: 'invalid-utf8',
        message: 'File is not valid UTF-8; save it as UTF-8 to have it checked.',
      },
    ];
  }
  return validateText(text, options);
}

function findingsFor(text: string, options: ValidateOptions): Finding[] {
  const modeline = kindFromModeline(text);
  if (modeline && modeline.kind === undefined && !options.reportUnrecognised) return [];
  const foreignSchema = modeline !== undefined && modeline.kind === undefined;
  const fileKind: ConfigKind | undefined = modeline?.kind ?? (foreignSchema ? undefined : kindFromPath(options.file, options));
  const parsed = parseConfigText(text, { fastPath: options.fastPath });
  const findings = [...parsed.findings];
  let recognised = fileKind !== undefined;
  for (const document of parsed.documents) {
    if (!document.checkable) continue;
    // A file without a path convention or modeline is judged per document, by its content.
    const kind = fileKind ?? (foreignSchema ? undefined : kindFromData(document.data));
    if (!kind) continue;
    recognised = true;
    findings.push(...checkAgainstSchema(kind, document.locator, document.data));
    findings.push(...checkRules(kind, document.locator, document.data, options));
  }
  if (!recognised && options.reportUnrecognised && !findings.some((finding) => finding.severity === 'error')) {
    findings.push({
      span: { start: 0, end: 0 },
      severity: 'info',
      code: 'not-a-config',
      message: `Not recognised as a VIN OCR ${Object.values(KIND_LABELS).join(', ')}; only the YAML syntax was checked.`,
    });
  }
  return findings;
}

function toProblems(findings: Finding[], positions: TextPositions, file: string): Problem[] {
  const ordered = [...findings].sort((a, b) => a.span.start - b.span.start || a.span.end - b.span.end);
  const problems = ordered.slice(0, MAX_PROBLEMS).map((finding): Problem => {
    const problem: Problem = {
      file,
      ...positions.range(finding.span),
      severity: finding.severity,
      code: finding.code,
      message: finding.message,
    };
    if (finding.fix) problem.fix = finding.fix;
    return problem;
  });
  if (ordered.length > MAX_PROBLEMS) {
    const { line, column, endLine, endColumn } = problems[problems.length - 1]!;
    problems.push({
      file,
      line,
      column,
      endLine,
      endColumn,
      severity: 'info',
      code: 'yaml-syntax',
      message: `${ordered.length - MAX_PROBLEMS} more problems not shown.`,
    });
  }
  return problems;
}

/** For files too large to even read into memory: the same answer the text check would give. */
export function oversizedFileProblem(file: string, bytes: number): Problem {
  return problemAtStart(
    file,
    'file-too-large',
    `File is ${(bytes / 1024 / 1024).toFixed(1)} MB; configs larger than ${MAX_TEXT_LENGTH / 1024} KB are not checked.`,
  );
}

function problemAtStart(file: string, code: Problem['code'], message: string): Problem {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 2, severity: 'error', code, message };
}

/** The kind the editor should treat a text as, or undefined to leave the file alone. */
export function detectKind(text: string, file: string, options: KindOptions = {}): ConfigKind | undefined {
  const modeline = kindFromModeline(text);
  if (modeline) return modeline.kind;
  const byPath = kindFromPath(file, options);
  if (byPath) return byPath;
  // Content sniffing only needs the top-level keys; a full parse is still cheap at config sizes.
  const parsed = parseConfigText(text);
  for (const document of parsed.documents) {
    const kind = kindFromData(document.data);
    if (kind) return kind;
  }
  return undefined;
}
