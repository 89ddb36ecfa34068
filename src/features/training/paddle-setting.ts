// The family environments' settings (`vinOcr.paddleocr.pythonPath`, `vinOcr.deepseekOcr.pythonPath`), read like
// `vinOcr.cloud.skyPath`: machine scope, only the User value counts, and nothing in an untrusted workspace, since the
// value names a program VIN OCR runs. No `vscode` import here, so that the unit tests check the guard itself;
// family-environment.ts hands it what VS Code says.
import { PADDLE_ENVIRONMENT_INFO } from '../../core/trainer/family-environments';

export const PADDLE_PYTHON_SETTING = PADDLE_ENVIRONMENT_INFO.setting;

/** The part of `WorkspaceConfiguration.inspect()` the guard reads. */
export interface SettingInspection {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The user's own value (`globalValue`), trimmed; undefined in an untrusted workspace or when unset. */
export function userLevelValue(inspection: SettingInspection | undefined, workspaceTrusted: boolean): string | undefined {
  if (!workspaceTrusted) return undefined;
  const value = inspection?.globalValue;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}
