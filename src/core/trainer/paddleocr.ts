// Facts about a training config's `paddleocr` section that the editor's rules, the PaddleOCR environment and
// the launcher share: where the user's PaddleOCR clone is, what makes a folder one, where the base config and
// the pretrained weights are. Paths resolve as the trainer resolves them (trainer/vin_ocr: the paddleocr family):
// relative to the config file, the base config relative to the clone, `~` for the home folder.

import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** The variable that hands the trainer the PaddleOCR environment's interpreter (unset: the trainer tries its own). */
export const PADDLE_PYTHON_ENV = 'VIN_OCR_PADDLE_PYTHON';
/** The managed PaddleOCR environment, a sibling of the trainer's under the extension's (or the CLI's) storage folder. */
export const PADDLE_ENVIRONMENT = 'paddle-venv';
/** The model family's key in data/requirements.json (its install lines). */
export const PADDLE_FAMILY = 'paddleocr';
export const DEFAULT_BASE_CONFIG = 'configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml';
/** A VIN has 17 characters: a recognizer that reads fewer cannot read one. */
export const MIN_TEXT_LENGTH = 17;
export const PADDLEOCR_CLONE_URL = 'https://github.com/PaddlePaddle/PaddleOCR';
/** What a PaddleOCR clone has, relative to its root: the training and export entry points and the package they import. */
export const CLONE_MARKERS = { trainScript: 'tools/train.py', exportScript: 'tools/export_model.py', package: 'ppocr/' } as const;
/** The CLI's PaddleOCR environment in the working folder, where scripts/setup-paddle.sh creates it. */
export const LOCAL_PADDLE_ENVIRONMENT = '.paddle-venv';
/** The packages tools/train.py imports, in the clone. */
export const CLONE_REQUIREMENTS = 'requirements.txt';
export const PDPARAMS = '.pdparams';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function isPaddleocrConfig(data: unknown): boolean {
  return isRecord(data) && isRecord(data.model) && data.model.type === PADDLE_FAMILY;
}

/** The config's `paddleocr` section, or an empty one. */
export function paddleocrSection(data: unknown): Record<string, unknown> {
  return isRecord(data) && isRecord(data.paddleocr) ? data.paddleocr : {};
}

/** `~` and `~/x` are the home folder (as in the trainer); anything else is returned as it is. */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  return /^~[/\\]/.test(path) ? join(home, path.slice(2)) : path;
}

/** A path from the config, absolute: `~` expanded, a relative one against `base`. */
export function resolveAgainst(base: string, path: string, home?: string): string {
  const expanded = expandHome(path.trim(), home);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(base, expanded);
}

export function configFolder(configFile: string): string {
  return dirname(resolve(configFile));
}

/** The clone the config names (`paddleocr.repo`, relative to the config file), or undefined when it names none. */
export function paddleCloneOf(configFile: string, data: unknown, home?: string): string | undefined {
  const repo = paddleocrSection(data).repo;
  return typeof repo === 'string' && repo.trim() ? resolveAgainst(configFolder(configFile), repo, home) : undefined;
}

/** The base config's value (the default when unset) and its absolute path inside (or outside) the clone. */
export function baseConfigOf(clone: string, data: unknown, home?: string): { value: string; path: string; isDefault: boolean } {
  const raw = paddleocrSection(data).base_config;
  const given = typeof raw === 'string' && raw.trim() ? raw.trim() : undefined;
  const value = given ?? DEFAULT_BASE_CONFIG;
  return { value, path: resolveAgainst(clone, value, home), isDefault: given === undefined };
}

export function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value.trim());
}

/**
 * The files a local `pretrained_model` may mean: PaddleOCR takes the path with or without `.pdparams`, so a path
 * without the extension is tried as written and with it (`out/best_accuracy` → itself, `out/best_accuracy.pdparams`).
 */
export function pretrainedCandidates(configFile: string, value: string, home?: string): string[] {
  const path = resolveAgainst(configFolder(configFile), value, home);
  return path.toLowerCase().endsWith(PDPARAMS) ? [path] : [path, `${path}${PDPARAMS}`];
}
