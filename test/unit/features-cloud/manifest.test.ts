import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// The parts of package.json "Train on Cloud…" relies on: the command and where it is offered, and its settings.
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const contributes = manifest.contributes;

describe('extension manifest (cloud)', () => {
  it('contributes "VIN OCR: Train on Cloud…" in the palette, the editor and the Explorer', () => {
    const command = contributes.commands.find((entry: { command: string }) => entry.command === 'vinOcr.trainOnCloud');
    assert.equal(`${command.category}: ${command.title}`, 'VIN OCR: Train on Cloud…');
    const hidden = contributes.menus.commandPalette.some((entry: { command: string }) => entry.command === 'vinOcr.trainOnCloud');
    assert.equal(hidden, false, 'in the command palette');
    for (const menu of ['editor/context', 'explorer/context'])
      assert.ok(
        contributes.menus[menu].some((entry: { command: string }) => entry.command === 'vinOcr.trainOnCloud'),
        menu,
      );
  });

  it('offers "Tear Down Cloud Cluster" on finished cloud runs only', () => {
    const entry = contributes.menus['view/item/context'].find((item: { command: string }) => item.command === 'vinOcr.cloudTearDown');
    assert.match(entry.when, /viewItem =~ \/\^run-\(completed\|cancelled\|failed\) cloud\//);
  });

  it('takes the sky path from the machine’s own settings, never a workspace’s, and autostops after 30 minutes', () => {
    const properties = contributes.configuration.properties;
    assert.equal(properties['vinOcr.cloud.skyPath'].scope, 'machine');
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('vinOcr.cloud.skyPath'));
    assert.equal(properties['vinOcr.cloud.autostopMinutes'].default, 30);
    assert.equal(properties['vinOcr.cloud.autostopMinutes'].minimum, 0);
  });
});
