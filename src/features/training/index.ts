// Training features (Train command, runs tree, training view, log, tasks): placeholder until issue 5.
import type * as vscode from 'vscode';
import type { HardwareState } from '../hardware/state';

export function registerTrainingFeatures(_context: vscode.ExtensionContext, _hardware: HardwareState): void {}
