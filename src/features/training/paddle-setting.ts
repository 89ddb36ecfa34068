// `vinOcr.paddleocr.pythonPath`, read like `vinOcr.cloud.skyPath`: machine scope, only the User value counts, and
// nothing in an untrusted workspace, since the value names a program the trainer runs. No `vscode` import here,
// so that the unit tests check the guard itself; paddle-environment-command.ts hands it what VS Code says.

export const PADDLE_PYTHON_SETTING = 'vinOcr.paddleocr.pythonPath';

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
