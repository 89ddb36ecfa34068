// Activation only wires features together; every feature registers its own disposables.
// Nothing slow happens here: probing and validation start lazily inside the features.
import type * as vscode from 'vscode';
import { registerConfigFeatures } from './features/config';
import { registerHardwareFeatures, type HardwareFeatures } from './features/hardware';
import { registerTrainingFeatures } from './features/training';

/** What activate() returns: for other extensions and for the integration tests. */
export interface VinOcrApi {
  hardware: HardwareFeatures;
  /** How long activate() took, and when the badge showed cached text (ms after activate began). */
  activation: { activateMs: number; badgeFromCacheMs: number | undefined };
}

export function activate(context: vscode.ExtensionContext): VinOcrApi {
  const started = performance.now();
  const hardware = registerHardwareFeatures(context);
  registerConfigFeatures(context, hardware);
  registerTrainingFeatures(context, hardware);
  const activation = {
    activateMs: performance.now() - started,
    badgeFromCacheMs: hardware.badgeFromCacheAt === undefined ? undefined : hardware.badgeFromCacheAt - started,
  };
  // Logged in a fixed shape: the integration harness and the benchmark read these figures from the log.
  hardware.log.info(
    `activated in ${activation.activateMs.toFixed(2)} ms; badge from cache ${activation.badgeFromCacheMs === undefined ? 'n/a (cold start)' : `after ${activation.badgeFromCacheMs.toFixed(2)} ms`}`,
  );
  return { hardware, activation };
}

export function deactivate(): void {}
