// What the training features need to know about a training config file without validating it:
// whether a YAML file is one, and where its runs go (`output_dir`, relative to the file).

import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_OUTPUT_DIR } from './run-layout';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses leniently; undefined for text that is not a YAML mapping (or too large to be a config). */
export function parseConfigData(text: string): Record<string, unknown> | undefined {
  if (text.length > 512 * 1024) return undefined;
  try {
    const data: unknown = parse(text, { maxAliasCount: 100, prettyErrors: false });
    return isRecord(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Same rule as the config validator's kind detection: `model.type`, or `training` with `data`/`output_dir`. */
export function isTrainingConfigData(data: Record<string, unknown> | undefined): boolean {
  if (!data || 'model_id' in data || 'trainer' in data) return false;
  if (isRecord(data.model) && 'type' in data.model) return true;
  return 'training' in data && ('data' in data || 'output_dir' in data);
}

export function isTrainingConfigText(text: string): boolean {
  return isTrainingConfigData(parseConfigData(text));
}

/** The folder that holds this config's runs: `output_dir` (default `runs`) resolved against the config's folder. */
export function runsFolderOf(configPath: string, data: Record<string, unknown> | undefined): string {
  const outputDir = typeof data?.output_dir === 'string' && data.output_dir.trim() ? data.output_dir.trim() : DEFAULT_OUTPUT_DIR;
  return isAbsolute(outputDir) ? outputDir : resolve(dirname(configPath), outputDir);
}
