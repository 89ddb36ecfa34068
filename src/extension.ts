// Activation only wires features together; every feature registers its own disposables.
// Nothing slow happens here: probing and validation start lazily inside the features.
import type * as vscode from 'vscode';
import { registerConfigFeatures } from './features/config';
import { registerHardwareFeatures } from './features/hardware';
import { registerTrainingFeatures } from './features/training';

export function activate(context: vscode.ExtensionContext): void {
  const hardware = registerHardwareFeatures(context);
  registerConfigFeatures(context, hardware);
  registerTrainingFeatures(context, hardware);
}

export function deactivate(): void {}
