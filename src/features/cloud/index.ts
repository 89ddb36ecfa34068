// Cloud training: "VIN OCR: Train on Cloud…" (palette, CodeLens, Explorer, the hardware panel's suggestions)
// and "Tear Down Cloud Cluster" on a cloud run in the Runs tree. Registration only; nothing runs until used.
import * as vscode from 'vscode';
import type { TrainingController } from '../training/controller';
import { isRunNode } from '../training/run-commands';
import { requireTrust } from '../training/trust';
import { tearDownCluster } from './after-run';
import { trainOnCloud } from './command';
import { findSkyFor } from './sky-setup';

export function registerCloudFeatures(context: vscode.ExtensionContext, controller: TrainingController): void {
  const feature = { context, controller };
  context.subscriptions.push(
    vscode.commands.registerCommand('vinOcr.trainOnCloud', (argument?: unknown, answers?: unknown) =>
      trainOnCloud(feature, argument, answers),
    ),
    vscode.commands.registerCommand('vinOcr.cloudTearDown', async (node?: unknown) => {
      if (!requireTrust('Tearing down a cloud cluster') || !isRunNode(node) || !node.dir) return;
      const sky = await findSkyFor(context);
      if (!sky) {
        void vscode.window.showErrorMessage(
          'VIN OCR: SkyPilot ("sky") is not found: set vinOcr.cloud.skyPath, or run `sky down` yourself.',
        );
        return;
      }
      await tearDownCluster(node.dir, sky, controller.log);
    }),
  );
}
