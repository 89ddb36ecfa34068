// The status-bar badge: one item, short text, a spinner while probing, a markdown tooltip, click opens the panel.
import * as vscode from 'vscode';
import { badgeAccessibilityLabel, badgeText, mibToDecimalGb, ramGb } from './badge-text';
import type { HardwareSnapshot, HardwareState } from './state';

const FIT_ICON = { optimal: '$(pass-filled)', minimum: '$(pass)', insufficient: '$(error)' } as const;

function tooltipFor(snapshot: HardwareSnapshot | undefined, probing: boolean): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString('', true);
  markdown.appendMarkdown('**VIN OCR hardware**');
  if (probing) markdown.appendMarkdown(' — probing… $(loading~spin)');
  markdown.appendMarkdown('\n\n');
  if (!snapshot) {
    markdown.appendMarkdown('Not probed yet.\n\n');
  } else {
    const { facts, report, interpreter } = snapshot;
    // Every value from the machine or the workspace goes through appendText, which escapes markdown.
    const line = (label: string, value: string) => {
      markdown.appendMarkdown(`${label}: `);
      markdown.appendText(value);
      markdown.appendMarkdown('  \n');
    };
    line('Platform', `${report.platform}${report.explanations ? ` — ${report.explanations.platform}` : ''}`);
    line('Attention', `${report.attention}${report.explanations ? ` — ${report.explanations.attention}` : ''}`);
    if (report.precision) line('Precision', `${report.precision}${report.explanations ? ` — ${report.explanations.precision}` : ''}`);
    for (const gpu of facts.gpus) {
      const vram = gpu.vram_mib ? ` · ${mibToDecimalGb(gpu.vram_mib)} GB` : '';
      line('GPU', `${gpu.name}${vram}${gpu.compute_capability ? ` · compute ${gpu.compute_capability}` : ''}`);
    }
    line('CPU', `${facts.cpu.brand} · ${facts.cpu.cores} cores · ${ramGb(facts.ram_bytes)} GB RAM`);
    line('Python', interpreter ? `${interpreter.path} (${interpreter.reason})` : 'none found');
    markdown.appendMarkdown('\n');
    for (const [model, verdict] of Object.entries(report.models)) {
      markdown.appendMarkdown(`${FIT_ICON[verdict.fit]} `);
      markdown.appendText(`${model}: ${verdict.fit} on ${verdict.platform}, ${verdict.attention}`);
      markdown.appendMarkdown('  \n');
    }
    if (report.warnings.length > 0) {
      markdown.appendMarkdown('\n');
      for (const warning of report.warnings) {
        markdown.appendMarkdown('$(warning) ');
        markdown.appendText(warning.message);
        markdown.appendMarkdown('  \n');
      }
    }
  }
  markdown.appendMarkdown('\n[Show hardware](command:vinOcr.showHardware) · [Refresh](command:vinOcr.refreshHardware)');
  // Only our own commands may run from the tooltip links.
  markdown.isTrusted = { enabledCommands: ['vinOcr.showHardware', 'vinOcr.refreshHardware'] };
  return markdown;
}

/** Creates the badge and keeps it in step with the state; returns its disposable. */
export function createHardwareBadge(state: HardwareState): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('vinOcr.hardwareBadge', vscode.StatusBarAlignment.Left, 10);
  item.name = 'VIN OCR Hardware';
  item.command = 'vinOcr.showHardware';

  const render = () => {
    item.text = badgeText(state.current, state.probing);
    item.tooltip = tooltipFor(state.current, state.probing);
    item.accessibilityInformation = { label: badgeAccessibilityLabel(state.current, state.probing), role: 'button' };
  };
  render();
  item.show();

  return vscode.Disposable.from(item, state.onDidChange(render), state.onDidChangeProbing(render));
}
