// `vin-ocr validate FILE… [--facts FILE] [--json]`: the editor's config diagnostics for CI pipelines.
// Exit 1 when any error is found, 0 otherwise, 2 on usage errors (bad options, unreadable files).
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { MAX_TEXT_LENGTH } from '../core/config/limits';
import { toContractShape, type Problem } from '../core/config/problem';
import { oversizedFileProblem, validateBytes } from '../core/config/validate';
import { parseFacts } from '../core/hardware/facts-file';
import type { HardwareFacts } from '../core/hardware/types';

export const VALIDATE_USAGE = `Usage: vin-ocr validate FILE… [--facts FILE] [--json]

  FILE…          model profiles, trainer configs and training configs (YAML)
  --facts FILE   also judge hardware rules (attention, model fit) against the machine in FILE
                 (from \`vin-ocr doctor --dump-facts\`); without it those rules are skipped
  --json         print the problems as a JSON array (the contract the editor shows)

Output: one line per problem, "file:line:col severity code message".
Exit status: 1 when any error is found, 0 otherwise, 2 on usage errors.
`;

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
}

const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
};

interface ValidateArgs {
  files: string[];
  factsFile?: string;
  json: boolean;
}

function parseValidateArgs(args: string[]): ValidateArgs | 'help' | { usageError: string } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: {
        json: { type: 'boolean', default: false },
        facts: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) return 'help';
    if (positionals.length === 0) return { usageError: 'no files given' };
    if (values.facts !== undefined && !values.facts.trim()) return { usageError: '--facts needs a file' };
    return { files: positionals, factsFile: values.facts, json: values.json };
  } catch (error) {
    return { usageError: error instanceof Error ? error.message : String(error) };
  }
}

async function loadFacts(file: string): Promise<HardwareFacts | { usageError: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { usageError: `cannot read facts file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  const parsed = parseFacts(text);
  return parsed.ok ? parsed.facts : { usageError: `facts file ${file}: ${parsed.error}` };
}

/** Files far beyond the limit are not even read, so a 5 GB log passed by mistake costs nothing. */
async function validateFile(file: string, facts: HardwareFacts | undefined, cwd: string): Promise<Problem[] | { usageError: string }> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { usageError: `${file} is not a file` };
    if (info.size > MAX_TEXT_LENGTH * 4) return [oversizedFileProblem(file, info.size)];
    const bytes = await readFile(file);
    return validateBytes(bytes, { file, facts, workspaceRoot: cwd, fileExists: existsSync, reportUnrecognised: true });
  } catch (error) {
    return { usageError: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
}

export function formatProblemLine(problem: Problem): string {
  const message = problem.message.replace(/\s*\n\s*/g, ' ');
  return `${problem.file}:${problem.line}:${problem.column} ${problem.severity} ${problem.code} ${message}`;
}

export async function runValidate(args: string[], io: CliIO = processIO): Promise<number> {
  const parsed = parseValidateArgs(args);
  if (parsed === 'help') {
    io.stdout(VALIDATE_USAGE);
    return 0;
  }
  const usageError = (message: string) => {
    io.stderr(`vin-ocr validate: ${message}\n\n${VALIDATE_USAGE}`);
    return 2;
  };
  if ('usageError' in parsed) return usageError(parsed.usageError);

  let facts: HardwareFacts | undefined;
  if (parsed.factsFile) {
    const loaded = await loadFacts(parsed.factsFile);
    if ('usageError' in loaded) return usageError(loaded.usageError);
    facts = loaded;
  }

  const problems: Problem[] = [];
  for (const file of parsed.files) {
    const result = await validateFile(file, facts, io.cwd);
    if ('usageError' in result) return usageError(result.usageError);
    problems.push(...result);
  }

  if (parsed.json) {
    io.stdout(`${JSON.stringify(problems.map(toContractShape), null, 2)}\n`);
  } else {
    for (const problem of problems) io.stdout(`${formatProblemLine(problem)}\n`);
    io.stderr(`${summary(problems, parsed.files.length)}\n`);
  }
  return problems.some((problem) => problem.severity === 'error') ? 1 : 0;
}

function summary(problems: Problem[], fileCount: number): string {
  const count = (severity: Problem['severity']) => problems.filter((problem) => problem.severity === severity).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const errors = plural(count('error'), 'error');
  const warnings = plural(count('warning'), 'warning');
  return `${errors}, ${warnings}, ${count('info')} info in ${plural(fileCount, 'file')}`;
}
