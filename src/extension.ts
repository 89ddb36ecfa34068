// Activation only wires features together; every feature registers its own disposables.
// Nothing slow happens here: probing and validation start lazily inside the features.
import type * as vscode from 'vscode';
import { registerCloudFeatures } from './features/cloud';
import { registerConfigFeatures } from './features/config';
import { registerHardwareFeatures, type HardwareFeatures } from './features/hardware';
import { createInterpreterService } from './features/interpreter';
import { registerTrainingFeatures, shutdownTraining } from './features/training';

/** What activate() returns: for other extensions and for the integration tests. */
export interface VinOcrApi {
  hardware: HardwareFeatures;
  /** How long activate() took (in total and per feature), and when the badge showed cached text (ms after activate began). */
  activation: { activateMs: number; badgeFromCacheMs: number | undefined; featureMs: Record<string, number> };
}

export function activate(context: vscode.ExtensionContext): VinOcrApi {
  const started = performance.now();
  const featureMs: Record<string, number> = {};
  // Times each feature's registration, so a slow one is named in the log (activate() must stay within 20 ms).
  const timed = <T>(name: string, register: () => T): T => {
    const featureStarted = performance.now();
    try {
      return register();
    } finally {
      featureMs[name] = Number((performance.now() - featureStarted).toFixed(2));
    }
  };
  // One interpreter service for the hardware probe and the trainer, so both always use the same Python.
  const interpreters = createInterpreterService();
  context.subscriptions.push(interpreters);
  const hardware = timed('hardware', () => registerHardwareFeatures(context, interpreters));
  timed('config', () => registerConfigFeatures(context, hardware));
  const training = timed('training', () => registerTrainingFeatures(context, hardware, interpreters));
  timed('cloud', () => registerCloudFeatures(context, training));
  const activation = {
    activateMs: performance.now() - started,
    badgeFromCacheMs: hardware.badgeFromCacheAt === undefined ? undefined : hardware.badgeFromCacheAt - started,
    featureMs,
  };
  const perFeature = Object.entries(featureMs)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ');
  const fromCache = activation.badgeFromCacheMs === undefined ? 'n/a (cold start)' : `after ${activation.badgeFromCacheMs.toFixed(2)} ms`;
  hardware.log.info(`activated in ${activation.activateMs.toFixed(2)} ms (${perFeature}); badge from cache ${fromCache}`);
  return { hardware, activation };
}

/** Waits until every trainer process tree is gone, so closing the window leaves nothing running. */
export function deactivate(): Promise<void> {
  return shutdownTraining();
}
