// What "Train on Cloud…" offers and says, as plain data (no VS Code), so it is unit-tested in Node:
// the instances with the fit verdict of our hardware policy for the config's model (the same verdict
// the hardware panel and the doctor give), the fitting ones first, and the confirmation text.

import { listCloudTargets, targetFacts } from '../../core/cloud/targets';
import type { CloudTarget } from '../../core/cloud/types';
import { evaluatePolicy } from '../../core/hardware/policy';
import { findModel } from '../../core/hardware/requirements';
import type { Fit } from '../../core/hardware/types';
import { formatUsd } from '../../core/cloud/cloud-run';

export interface InstanceChoice {
  target: CloudTarget;
  /** The policy's verdict for the config's model on this instance; undefined for a model the table does not know. */
  fit?: Fit;
  /** The platform the model would train on there (cuda, cpu). */
  platform?: string;
  /** USD per node-hour from SkyPilot's catalog, when known. */
  price?: number;
}

const FIT_ORDER: Record<Fit, number> = { optimal: 0, minimum: 1, insufficient: 2 };

/** The verdict for one target: the policy applied to the instance's facts, exactly as the hardware panel does. */
export function fitOn(target: CloudTarget, modelType: string | undefined): Pick<InstanceChoice, 'fit' | 'platform'> {
  const model = modelType ? findModel(modelType) : undefined;
  const facts = targetFacts(target);
  if (!model || !facts) return {};
  const verdict = evaluatePolicy(facts).models[model.id];
  return verdict ? { fit: verdict.fit, platform: verdict.platform } : {};
}

/** Every instance of the table, those the model fits best first, then the cheaper; the table's order otherwise. */
export function instanceChoices(modelType: string | undefined, prices: ReadonlyMap<string, number> = new Map()): InstanceChoice[] {
  const choices = listCloudTargets().map((target) => ({ target, ...fitOn(target, modelType), price: prices.get(target.id) }));
  const rank = (choice: InstanceChoice) => (choice.fit ? FIT_ORDER[choice.fit] : 1);
  return choices
    .map((choice, index) => ({ choice, index }))
    .sort(
      (a, b) =>
        rank(a.choice) - rank(b.choice) ||
        (a.choice.price ?? Number.POSITIVE_INFINITY) - (b.choice.price ?? Number.POSITIVE_INFINITY) ||
        a.index - b.index,
    )
    .map(({ choice }) => choice);
}

const FIT_WORDS: Record<Fit, string> = { optimal: 'fits (optimal)', minimum: 'fits (minimum)', insufficient: 'does not fit' };
const FIT_ICONS: Record<Fit, string> = { optimal: '$(pass)', minimum: '$(warning)', insufficient: '$(error)' };

/** The picker's row for a choice: icon and id; cloud, GPU and price; the verdict in words. */
export function choiceRow(choice: InstanceChoice, modelLabel: string): { label: string; description: string; detail: string } {
  const icon = choice.fit ? FIT_ICONS[choice.fit] : '$(question)';
  const description = [choice.target.cloud?.toUpperCase(), choice.price !== undefined ? `from ${formatUsd(choice.price)}/h` : undefined]
    .filter(Boolean)
    .join(' · ');
  const verdict = choice.fit
    ? `${modelLabel} ${FIT_WORDS[choice.fit]}${choice.platform ? ` on ${choice.platform}` : ''}`
    : `no fit verdict for ${modelLabel}`;
  return { label: `${icon} ${choice.target.id}`, description, detail: `${choice.target.label} — ${verdict}` };
}

export interface LaunchSummary {
  target: CloudTarget;
  nodes: number;
  spot: boolean;
  autostopMinutes: number;
  price?: number;
  configName: string;
}

/** The modal confirmation: what is launched, how, and that it costs money until the cluster stops. */
export function confirmationText(summary: LaunchSummary): { message: string; detail: string } {
  const nodes = summary.nodes === 1 ? '1 node' : `${summary.nodes} nodes`;
  const price =
    summary.price !== undefined
      ? `About ${formatUsd(summary.price * summary.nodes)} per hour on demand (SkyPilot's catalog)${summary.spot ? ', less on spot' : ''}.`
      : 'The price is not known here: check your cloud provider.';
  const autostop =
    summary.autostopMinutes > 0
      ? `Autostop: the cluster stops after ${summary.autostopMinutes} idle minutes.`
      : 'Autostop is off: the cluster runs until you stop it.';
  return {
    message: `Train ${summary.configName} on ${summary.target.id} (${nodes}${summary.spot ? ', spot' : ''})?`,
    detail: [
      `This starts a cloud cluster that costs money while it runs. ${price}`,
      autostop,
      summary.spot ? 'Spot instances are cheaper but may be taken back mid-run.' : undefined,
    ]
      .filter(Boolean)
      .join('\n'),
  };
}

/** Nodes typed by the user: a whole number from 1 to 16; the message when it is not. */
export function validateNodes(text: string): string | undefined {
  const value = Number(text.trim());
  return Number.isInteger(value) && value >= 1 && value <= 16 ? undefined : 'Give a whole number of nodes from 1 to 16.';
}
