// `vin-ocr doctor`: what this machine (or one described in a facts file) can train, without VS Code.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createFactsCollector, type SourceReport } from '../core/hardware/collect';
import { parseFacts } from '../core/hardware/facts-file';
import { evaluatePolicy } from '../core/hardware/policy';
import { probeDeepseekEnvironment, withDeepseekEnvironment } from '../core/hardware/family-environment-report';
import { formatDoctorText } from '../core/hardware/report';
import { withTrainerPathsInReport } from '../core/hardware/requirements';
import type { FamilyEnvironmentReport, HardwareFacts } from '../core/hardware/types';
import { resolveInterpreter, type ResolvedInterpreter } from '../core/interpreter/resolve';
import { DEEPSEEK_ENVIRONMENT_INFO } from '../core/trainer/family-environments';
import { cliFamilyPython } from './storage';

export const DOCTOR_USAGE = `Usage: vin-ocr doctor [--json] [--facts FILE] [--dump-facts] [--python PATH] [--deepseek-python PATH]

  --json          print the doctor report as JSON (the contract the extension shows)
  --facts FILE    judge the machine described in FILE (a recorded or hypothetical one) instead of this one
  --dump-facts    print this machine's facts as JSON, e.g. for a bug report or a later --facts
  --python PATH   the trainer's interpreter (default: ./.venv, then python3/python on PATH)
  --deepseek-python PATH
                  DeepSeek-OCR's own environment, reported with its transformers (default: ./.deepseek-venv, then
                  deepseek-venv/ in the vin-ocr data folder; none: not reported)
`;

/** The bundled trainer: next to dist/ in the extension (dist/cli.js), at the repository root when run from source. */
export function findTrainerDir(from: string = __dirname): string {
  const candidates = [path.join(from, '..', 'trainer'), path.join(from, '..', '..', 'trainer')];
  return candidates.find((dir) => existsSync(path.join(dir, 'vin_ocr', '__main__.py'))) ?? candidates[0]!;
}

interface DoctorOptions {
  json: boolean;
  factsFile?: string;
  dumpFacts: boolean;
  python?: string;
  deepseekPython?: string;
}

function parseDoctorArgs(args: string[]): DoctorOptions | string {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: {
        json: { type: 'boolean', default: false },
        facts: { type: 'string' },
        'dump-facts': { type: 'boolean', default: false },
        python: { type: 'string' },
        'deepseek-python': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) return 'help';
    if (positionals.length > 0) return `unexpected argument "${positionals[0]}"`;
    if (values.facts !== undefined && !values.facts.trim()) return '--facts needs a file';
    return {
      json: values.json,
      factsFile: values.facts,
      dumpFacts: values['dump-facts'],
      python: values.python,
      deepseekPython: values['deepseek-python'],
    };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

type Loaded = {
  facts: HardwareFacts;
  interpreter?: ResolvedInterpreter;
  sources?: Record<string, SourceReport>;
  /** DeepSeek-OCR's own environment on this machine, when one was found. */
  deepseek?: FamilyEnvironmentReport;
};

/** Facts files are a few kilobytes; anything far larger is the wrong file, not worth reading. */
const MAX_FACTS_FILE_BYTES = 1_000_000;

async function loadFactsFile(file: string): Promise<Loaded | string> {
  let text: string;
  try {
    const info = await stat(file);
    if (info.isDirectory()) return `${file}: is a folder, not a facts file`;
    if (info.size > MAX_FACTS_FILE_BYTES) return `${file}: ${info.size} bytes is too large for a facts file (they are a few kilobytes)`;
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read (${code ?? String(error)})`;
  }
  const parsed = parseFacts(text);
  return parsed.ok ? { facts: parsed.facts } : `${file}: ${parsed.error}`;
}

async function collectThisMachine(options: DoctorOptions): Promise<Loaded> {
  const interpreter = await resolveInterpreter({ setting: options.python, workspaceFolders: [process.cwd()] });
  const collector = createFactsCollector({ trainerDir: findTrainerDir() });
  const deepseekPython = cliFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, options.deepseekPython);
  const [{ facts, sources }, deepseek] = await Promise.all([
    collector.collect(interpreter?.path),
    deepseekPython ? probeDeepseekEnvironment(deepseekPython) : undefined,
  ]);
  return { facts, interpreter, sources, deepseek };
}

function describeSources(sources: Record<string, SourceReport>): string {
  return Object.entries(sources)
    .map(([name, source]) => (source.ok ? `${name} ${Math.round(source.ms)} ms` : `${name}: ${source.error ?? 'failed'}`))
    .join(' · ');
}

function header(loaded: Loaded, python: string | undefined, factsFile: string | undefined): string {
  if (factsFile) return `VIN OCR doctor: the machine described in ${factsFile}\n\n`;
  const interpreter = loaded.interpreter
    ? `Interpreter: ${loaded.interpreter.reason}`
    : `Interpreter: none found${python ? ` (--python ${python} does not run as Python 3.9+)` : ' (pass --python PATH, or create ./.venv)'}`;
  return `VIN OCR doctor: this machine\n${interpreter}\nSources: ${describeSources(loaded.sources ?? {})}\n\n`;
}

export async function runDoctor(args: string[]): Promise<number> {
  const options = parseDoctorArgs(args);
  if (options === 'help') {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  if (typeof options === 'string') {
    process.stderr.write(`vin-ocr doctor: ${options}\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  const loaded = options.factsFile ? await loadFactsFile(options.factsFile) : await collectThisMachine(options);
  if (typeof loaded === 'string') {
    process.stderr.write(`vin-ocr doctor: ${loaded}\n`);
    return 2;
  }
  if (options.dumpFacts) {
    process.stdout.write(`${JSON.stringify(loaded.facts, null, 2)}\n`);
    return 0;
  }
  const report = withDeepseekEnvironment(withTrainerPathsInReport(evaluatePolicy(loaded.facts), findTrainerDir()), loaded.deepseek);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(header(loaded, options.python, options.factsFile) + formatDoctorText(loaded.facts, report));
  return 0;
}
