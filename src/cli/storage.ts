// The CLI's own data folder, for the environments it creates when no extension storage is at hand:
// SkyPilot's (`vin-ocr cloud setup`) and the family environments (`paddle-venv`, `deepseek-venv`), which
// `vin-ocr train` and `vin-ocr doctor` find there or in the working folder.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { venvPython } from '../core/trainer/environment';
import { resolveFamilyPython, type FamilyEnvironment } from '../core/trainer/family-environments';

/** `$XDG_DATA_HOME/vin-ocr`, else `~/.local/share/vin-ocr`. */
export function cliStorageDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'vin-ocr');
}

/**
 * A family environment's interpreter for the CLI: its flag (a VS Code task passes the window's), else undefined when
 * the family's variable (VIN_OCR_PADDLE_PYTHON) is set already (it reaches the trainer as it is), else the one its
 * setup script made in the working folder (./.paddle-venv, ./.deepseek-venv), else the one in the CLI's data folder.
 */
export function cliFamilyPython(
  environment: FamilyEnvironment,
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string | undefined {
  if (flag?.trim()) return flag.trim();
  if (environment.childVariable && env[environment.childVariable]?.trim()) return undefined;
  const local = venvPython(path.join(cwd, environment.localFolder), process.platform);
  if (existsSync(local)) return local;
  return resolveFamilyPython(environment, { storageDir: cliStorageDir(env), exists: existsSync })?.path;
}
