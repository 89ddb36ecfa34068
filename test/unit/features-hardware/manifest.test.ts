import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

// The parts of package.json the hardware features rely on: lazy activation, commands, views, the setting, trust.
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));

describe('extension manifest (hardware)', () => {
  it('activates lazily, never on "*"', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(manifest.activationEvents.includes('onStartupFinished'));
    assert.ok(manifest.activationEvents.includes('onWebviewPanel:vinOcr.hardwarePanel'), 'a restored panel activates the extension');
  });

  it('runs where the GPU is (remote workspace side)', () => {
    assert.deepEqual(manifest.extensionKind, ['workspace']);
  });

  it('contributes the three hardware commands under the VIN OCR category', () => {
    const titles = Object.fromEntries(
      manifest.contributes.commands.map((command: { command: string; title: string; category: string }) => [
        command.command,
        `${command.category}: ${command.title}`,
      ]),
    );
    assert.equal(titles['vinOcr.showHardware'], 'VIN OCR: Show Hardware');
    assert.equal(titles['vinOcr.refreshHardware'], 'VIN OCR: Refresh Hardware');
    assert.equal(titles['vinOcr.copyHardwareReport'], 'VIN OCR: Copy Hardware Report');
  });

  it('has the VIN OCR activity-bar container with the Hardware tree, and its icon ships', () => {
    const container = manifest.contributes.viewsContainers.activitybar.find((entry: { id: string }) => entry.id === 'vinOcr');
    assert.equal(container?.title, 'VIN OCR');
    assert.ok(existsSync(container.icon), container.icon);
    assert.ok(manifest.contributes.views.vinOcr.some((view: { id: string }) => view.id === 'vinOcr.hardware'));
  });

  // window, not machine-overridable: code-server and remote windows drop machine-scoped User values (VS Code 1.139).
  it("takes the interpreter from the user's own settings, and ignores an untrusted workspace's", () => {
    assert.equal(manifest.contributes.configuration.properties['vinOcr.pythonPath'].scope, 'window');
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('vinOcr.pythonPath'));
  });
});
