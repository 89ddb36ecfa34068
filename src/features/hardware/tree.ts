// The "Hardware" tree in the VIN OCR activity-bar container.
import * as vscode from 'vscode';
import type { HardwareState } from './state';
import { hardwareTreeNodes, type HardwareTreeNode, type NodeTone } from './tree-model';

const TONE_COLOUR: Record<NodeTone, string> = {
  ok: 'testing.iconPassed',
  warning: 'problemsWarningIcon.foreground',
  error: 'problemsErrorIcon.foreground',
};

export class HardwareTreeProvider implements vscode.TreeDataProvider<HardwareTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly state: HardwareState) {
    this.subscriptions = [state.onDidChange(() => this.changed.fire()), state.onDidChangeProbing(() => this.changed.fire())];
  }

  getChildren(node?: HardwareTreeNode): HardwareTreeNode[] {
    return node ? (node.children ?? []) : hardwareTreeNodes(this.state.current, this.state.probing);
  }

  getTreeItem(node: HardwareTreeNode): vscode.TreeItem {
    const collapsed = node.id === 'machine' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded;
    const item = new vscode.TreeItem(node.label, node.children ? collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon, node.tone ? new vscode.ThemeColor(TONE_COLOUR[node.tone]) : undefined);
    if (!node.children) item.command = { command: 'vinOcr.showHardware', title: 'Show Hardware' };
    return item;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}
