// The doctor's view of DeepSeek-OCR's own environment: when one exists, its interpreter and the transformers it holds
// (read from package metadata, nothing imported), and the `transformers-too-new-for-deepseek` warning when its code
// cannot import with that. An optional part of the doctor report (`environments`): the contract's fields stay as they
// are. The trainer's own interpreter is not judged: DeepSeek-OCR runs never use it.
import { compareVersions, parseVersion } from '../config/versions';
import { requirements } from './requirements';
import { runTool } from './run-tool';
import type { DoctorReport, FamilyEnvironmentReport } from './types';
import { DEEPSEEK_ENVIRONMENT_FIX } from './warnings';

const TRANSFORMERS_VERSION_CODE =
  'import importlib.metadata as m\ntry:\n    print(m.version("transformers"))\nexcept m.PackageNotFoundError:\n    print("")';
const PROBE_TIMEOUT_MS = 15_000;

/** The transformers releases DeepSeek-OCR's code imports with (its environment in data/requirements.json). */
export function deepseekTransformers(): string | undefined {
  return requirements.find((model) => model.family === 'deepseek-ocr')?.environment?.transformers;
}

/** Whether a version satisfies a `>=A,<B` specifier's bounds (the only clauses the environment's pin uses). */
export function withinBounds(version: string, specifier: string): boolean {
  const parsed = parseVersion(version);
  if (!parsed) return false;
  const lower = /(?:^|,)\s*>=\s*([\d.]+)/.exec(specifier)?.[1];
  const upper = /(?:^|,)\s*<\s*([\d.]+)/.exec(specifier)?.[1];
  if (lower && compareVersions(parsed, parseVersion(lower)!) < 0) return false;
  return !(upper && compareVersions(parsed, parseVersion(upper)!) >= 0);
}

/** Asks the environment's interpreter for its transformers version (package metadata); never throws. */
export async function probeDeepseekEnvironment(python: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<FamilyEnvironmentReport> {
  const result = await runTool(python, ['-c', TRANSFORMERS_VERSION_CODE], { timeoutMs });
  if (!result.ok) return { python, transformers: null, usable: false, error: result.error ?? 'it does not run' };
  const version = result.stdout.trim().split(/\r?\n/).at(-1)?.trim() || null;
  const wanted = deepseekTransformers();
  return { python, transformers: version, usable: version !== null && (wanted === undefined || withinBounds(version, wanted)) };
}

/**
 * The report with DeepSeek-OCR's environment in it (when one was found): `environments['deepseek-ocr']`, and a
 * `transformers-too-new-for-deepseek` warning when its code cannot import there (what is wrong, how to set it up again).
 */
export function withDeepseekEnvironment(report: DoctorReport, environment: FamilyEnvironmentReport | undefined): DoctorReport {
  if (!environment) return report;
  const environments = { ...report.environments, 'deepseek-ocr': environment };
  if (environment.usable) return { ...report, environments };
  const warning = {
    code: 'transformers-too-new-for-deepseek',
    message: describeDeepseekEnvironment(environment),
    fix: DEEPSEEK_ENVIRONMENT_FIX,
  };
  return { ...report, warnings: [...report.warnings, warning], environments };
}

/** One sentence on the environment found: what it holds and whether DeepSeek-OCR's code imports with it. */
export function describeDeepseekEnvironment(environment: FamilyEnvironmentReport): string {
  const wanted = deepseekTransformers() ?? 'transformers 4.46.3–4.47.x';
  const where = `DeepSeek-OCR's environment at ${environment.python}`;
  if (environment.error) return `${where} does not run (${environment.error}).`;
  if (!environment.transformers) return `${where} has no transformers: DeepSeek-OCR's code needs ${wanted}.`;
  if (!environment.usable) return `${where} holds transformers ${environment.transformers}: DeepSeek-OCR's code needs ${wanted}.`;
  return `DeepSeek-OCR's environment is at ${environment.python} (transformers ${environment.transformers}): DeepSeek-OCR runs use it.`;
}
