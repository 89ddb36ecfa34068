// The core half of interpreter resolution: given what VS Code knows (the vinOcr.pythonPath setting,
// the Python extension's selection), pick the interpreter the trainer runs with, in the order
// setting → Python extension → workspace .venv → python3/python on PATH. A candidate counts only
// when it really runs as Python 3; skipped candidates are named in the reason so users see why.
import { access, constants, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTool } from '../hardware/run-tool';

export type InterpreterSource = 'setting' | 'python-extension' | 'workspace-venv' | 'path';

export interface ResolvedInterpreter {
  path: string;
  source: InterpreterSource;
  reason: string;
}

export interface ResolveInput {
  setting?: string;
  pythonExtension?: string;
  workspaceFolders: string[];
  env?: NodeJS.ProcessEnv;
  /** How long one candidate may take to answer (pyenv shims and cold disks are slow). */
  timeoutMs?: number;
}

/** The trainer's pyproject says requires-python >= 3.9. */
export const MINIMUM_PYTHON: readonly [number, number] = [3, 9];
const DEFAULT_TIMEOUT_MS = 10_000;
const CHECK_CODE = 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])';

interface Candidate {
  path: string;
  source: InterpreterSource;
  label: string;
}

export type CheckResult = { ok: true; version: string } | { ok: false; error: string };

/** Runs the candidate for real: a file that exists but is not a working Python 3.9+ does not count. */
export async function checkInterpreter(candidate: string, timeoutMs = DEFAULT_TIMEOUT_MS, env?: NodeJS.ProcessEnv): Promise<CheckResult> {
  const result = await runTool(candidate, ['-c', CHECK_CODE], { timeoutMs, env });
  if (!result.ok) return { ok: false, error: result.error ?? 'it does not run' };
  const version = result.stdout.trim().split(/\r?\n/).at(-1)?.trim() ?? '';
  const match = /^(\d+)\.(\d+)\.\d+$/.exec(version);
  if (!match) return { ok: false, error: `it does not answer like Python (${JSON.stringify(result.stdout.trim().slice(0, 80))})` };
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major < MINIMUM_PYTHON[0] || (major === MINIMUM_PYTHON[0] && minor < MINIMUM_PYTHON[1])) {
    return { ok: false, error: `Python ${version} is too old (the trainer needs ${MINIMUM_PYTHON.join('.')} or newer)` };
  }
  return { ok: true, version };
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like `which`: the first executable named `name` on PATH (with PATHEXT on Windows). */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const directories = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean) : [''];
  for (const directory of directories) {
    for (const extension of extensions) {
      const file = path.join(directory, name + extension);
      if (await isExecutableFile(file)) return file;
    }
  }
  return undefined;
}

/**
 * The Python that new environments (the trainer's, PaddleOCR's, DeepSeek-OCR's, SkyPilot's) are created with:
 * `python3` on PATH (`python` first on Windows, where `python3` is often the Store's placeholder), else `python`.
 */
export async function findBasePython(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
  return (await findOnPath(platform === 'win32' ? 'python' : 'python3', env)) ?? (await findOnPath('python', env));
}

export function venvPython(folder: string): string {
  return process.platform === 'win32' ? path.join(folder, '.venv', 'Scripts', 'python.exe') : path.join(folder, '.venv', 'bin', 'python');
}

/**
 * A setting may be `~/…`, `${workspaceFolder}/…`, relative to the first workspace folder, or a bare
 * command name looked up on PATH ("python3.11").
 */
async function expandSetting(setting: string, workspaceFolders: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const folder = workspaceFolders[0];
  let value = setting.trim();
  if (value.includes('${workspaceFolder}')) {
    if (!folder) return undefined;
    value = value.replaceAll('${workspaceFolder}', folder);
  }
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) value = path.join(env.HOME ?? os.homedir(), value.slice(1));
  if (path.isAbsolute(value)) return value;
  if (!value.includes('/') && !value.includes('\\')) return (await findOnPath(value, env)) ?? value;
  return folder ? path.resolve(folder, value) : path.resolve(value);
}

async function candidates(input: ResolveInput, env: NodeJS.ProcessEnv): Promise<Candidate[]> {
  const list: Candidate[] = [];
  if (input.setting?.trim()) {
    const expanded = await expandSetting(input.setting, input.workspaceFolders, env);
    list.push({ path: expanded ?? input.setting, source: 'setting', label: `vinOcr.pythonPath "${input.setting.trim()}"` });
  }
  if (input.pythonExtension?.trim()) {
    list.push({
      path: input.pythonExtension.trim(),
      source: 'python-extension',
      label: `the Python extension's interpreter ${input.pythonExtension.trim()}`,
    });
  }
  for (const folder of input.workspaceFolders) {
    const python = venvPython(folder);
    if (await isExecutableFile(python)) list.push({ path: python, source: 'workspace-venv', label: `the workspace's .venv (${python})` });
  }
  for (const name of ['python3', 'python']) {
    const found = await findOnPath(name, env);
    if (found) list.push({ path: found, source: 'path', label: `${name} on PATH (${found})` });
  }
  return list;
}

const CHOSEN_BECAUSE: Record<InterpreterSource, string> = {
  setting: 'set in vinOcr.pythonPath',
  'python-extension': 'selected in the Python extension',
  'workspace-venv': "the workspace's .venv",
  path: 'found on PATH',
};

/** The first candidate that really runs, with the reason; undefined when none does. Never rejects. */
export async function resolveInterpreter(input: ResolveInput): Promise<ResolvedInterpreter | undefined> {
  const env = input.env ?? process.env;
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const skipped: string[] = [];
  const tried = new Set<string>();
  for (const candidate of await candidates(input, env)) {
    if (tried.has(candidate.path)) continue;
    tried.add(candidate.path);
    const check = await checkInterpreter(candidate.path, timeoutMs, env);
    if (check.ok) {
      const skippedNote = skipped.length > 0 ? ` Skipped: ${skipped.join('; ')}.` : '';
      return {
        path: candidate.path,
        source: candidate.source,
        reason: `${candidate.path} (Python ${check.version}), ${CHOSEN_BECAUSE[candidate.source]}.${skippedNote}`,
      };
    }
    skipped.push(`${candidate.label}: ${check.error}`);
  }
  return undefined;
}
