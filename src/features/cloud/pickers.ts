// The steps of "Train on Cloud…" a person answers: which instance (fitting ones first, with the fit verdict
// and the price when SkyPilot's catalog has it), how many nodes, spot or on-demand. Quick picks only:
// keyboard first, themed by VS Code, nothing waits for the network.
import * as vscode from 'vscode';
import { ACCELERATOR_SPEC_SYNTAX, resolveCloudTarget } from '../../core/cloud/targets';
import type { CloudTarget } from '../../core/cloud/types';
import { catalogPrices } from './catalog-prices';
import { choiceRow, instanceChoices, validateNodes, type InstanceChoice } from './choices';
import { formatUsd } from '../../core/cloud/cloud-run';

const STEPS = 3;

interface InstanceItem extends vscode.QuickPickItem {
  choice?: InstanceChoice;
  other?: true;
}

function instanceItems(choices: InstanceChoice[], modelLabel: string): InstanceItem[] {
  const items: InstanceItem[] = [];
  let lastGroup: string | undefined;
  for (const choice of choices) {
    const group = choice.fit === 'insufficient' ? `Too small for ${modelLabel}` : `Fits ${modelLabel}`;
    if (group !== lastGroup) items.push({ label: group, kind: vscode.QuickPickItemKind.Separator });
    lastGroup = group;
    items.push({ ...choiceRow(choice, modelLabel), choice });
  }
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(edit) Other accelerator spec…', detail: ACCELERATOR_SPEC_SYNTAX, other: true });
  return items;
}

export interface PickedInstance {
  target: CloudTarget;
  /** USD per node-hour from SkyPilot's catalog, when it was known. */
  price?: number;
}

/**
 * The instance to train on. The list shows at once; prices fill in when SkyPilot's local catalog has been
 * read (the highlighted row stays where the person left it).
 */
export function pickInstance(modelType: string | undefined): Promise<PickedInstance | undefined> {
  const modelLabel = modelType ?? 'this model';
  const picker = vscode.window.createQuickPick<InstanceItem>();
  picker.title = `VIN OCR: Train on Cloud (1/${STEPS})`;
  picker.placeholder = `Instance for ${modelLabel}: the ones that fit come first`;
  picker.matchOnDescription = true;
  picker.matchOnDetail = true;
  let prices = new Map<string, number>();
  picker.items = instanceItems(instanceChoices(modelType), modelLabel);
  picker.busy = true;
  const targets = instanceChoices(modelType).map((choice) => choice.target);
  void catalogPrices(targets).then((found) => {
    picker.busy = false;
    if (found.size === 0) return;
    prices = found;
    const active = picker.activeItems[0]?.choice?.target.id;
    picker.items = instanceItems(instanceChoices(modelType, prices), modelLabel);
    const keep = picker.items.find((item) => item.choice?.target.id === active);
    if (keep) picker.activeItems = [keep];
  });
  return new Promise((resolve) => {
    let answered = false;
    picker.onDidAccept(async () => {
      const item = picker.selectedItems[0];
      if (!item) return;
      answered = true;
      picker.hide();
      if (item.choice) resolve({ target: item.choice.target, price: prices.get(item.choice.target.id) });
      else resolve(await askAcceleratorSpec());
    });
    picker.onDidHide(() => {
      if (!answered) resolve(undefined);
      picker.dispose();
    });
    picker.show();
  });
}

async function askAcceleratorSpec(): Promise<PickedInstance | undefined> {
  const spec = await vscode.window.showInputBox({
    title: `VIN OCR: Train on Cloud (1/${STEPS})`,
    prompt: `An accelerator spec: ${ACCELERATOR_SPEC_SYNTAX}`,
    placeHolder: 'A100:1',
    validateInput: (text) => {
      const resolved = resolveCloudTarget(text);
      return resolved.ok ? undefined : `${resolved.problem.message} ${resolved.problem.fix}`;
    },
  });
  if (!spec) return undefined;
  const resolved = resolveCloudTarget(spec);
  return resolved.ok ? { target: resolved.target } : undefined;
}

export interface RunOptions {
  nodes: number;
  spot: boolean;
}

/** Nodes (1, 2, 4, or typed), then on-demand or spot. */
export async function pickRunOptions(picked: PickedInstance): Promise<RunOptions | undefined> {
  const perNode = (nodes: number) => (picked.price !== undefined ? `from ${formatUsd(picked.price * nodes)}/h` : undefined);
  const gpus = picked.target.gpusPerNode;
  const nodeItems = [1, 2, 4].map((nodes) => ({
    label: nodes === 1 ? '1 node' : `${nodes} nodes`,
    description: [`${nodes * gpus} GPU${nodes * gpus === 1 ? '' : 's'}`, perNode(nodes)].filter(Boolean).join(' · '),
    detail: nodes === 1 ? 'One machine' : 'torchrun across the machines (distributed data parallel)',
    nodes,
  }));
  const more = { label: '$(edit) Other number of nodes…', nodes: 0 };
  const nodesChoice = await vscode.window.showQuickPick([...nodeItems, more], {
    title: `VIN OCR: Train on Cloud (2/${STEPS}) — ${picked.target.id}`,
    placeHolder: 'How many nodes?',
  });
  if (!nodesChoice) return undefined;
  let nodes = nodesChoice.nodes;
  if (nodes === 0) {
    const typed = await vscode.window.showInputBox({
      title: 'Nodes',
      prompt: 'Number of nodes (1–16)',
      value: '8',
      validateInput: validateNodes,
    });
    if (!typed) return undefined;
    nodes = Number(typed);
  }
  const spotChoice = await vscode.window.showQuickPick(
    [
      { label: 'On-demand', detail: 'Runs until it finishes', spot: false },
      { label: 'Spot', detail: 'Cheaper, but the cloud may take the machines back mid-run', spot: true },
    ],
    {
      title: `VIN OCR: Train on Cloud (3/${STEPS}) — ${picked.target.id}, ${nodes} node${nodes === 1 ? '' : 's'}`,
      placeHolder: 'On-demand or spot?',
    },
  );
  return spotChoice ? { nodes, spot: spotChoice.spot } : undefined;
}
