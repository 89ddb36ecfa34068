// Config features (diagnostics, quick fixes, completion, hover, configs tree): placeholder until issue 3.
import type * as vscode from 'vscode';
import type { HardwareState } from '../hardware/state';

export function registerConfigFeatures(_context: vscode.ExtensionContext, _hardware: HardwareState): void {}
