// The `vinOcr.configs.*` settings, read per resource and sanitised into one typed object.
import * as vscode from 'vscode';
import { isConfigKind, type ConfigKind } from '../../core/config/kinds';

export interface ConfigSettings {
  enabled: boolean;
  patterns: Record<string, ConfigKind>;
  checkHardware: boolean;
}

export function readConfigSettings(scope?: vscode.Uri): ConfigSettings {
  const section = vscode.workspace.getConfiguration('vinOcr.configs', scope);
  const rawPatterns = section.get<unknown>('patterns', {});
  const patterns: Record<string, ConfigKind> = {};
  if (typeof rawPatterns === 'object' && rawPatterns !== null) {
    for (const [glob, kind] of Object.entries(rawPatterns)) if (glob.trim() && isConfigKind(kind)) patterns[glob] = kind;
  }
  return {
    enabled: section.get<boolean>('enabled', true) !== false,
    patterns,
    checkHardware: section.get<boolean>('checkHardware', true) !== false,
  };
}
