// The CLI's own data folder, for the environments it creates when no extension storage is at hand:
// SkyPilot's (`vin-ocr cloud setup`) and the PaddleOCR environment (`paddle-venv`, found by `vin-ocr train`).
import { homedir } from 'node:os';
import * as path from 'node:path';

/** `$XDG_DATA_HOME/vin-ocr`, else `~/.local/share/vin-ocr`. */
export function cliStorageDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'vin-ocr');
}
