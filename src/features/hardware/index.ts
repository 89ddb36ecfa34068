// Hardware features (badge, panel, tree, commands): placeholder until issue 2 lands them.
import type * as vscode from 'vscode';
import type { HardwareState } from './state';

export function registerHardwareFeatures(_context: vscode.ExtensionContext): HardwareState {
  throw new Error('not implemented yet');
}
