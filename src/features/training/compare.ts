// "Compare Runs": two (or more) runs' settings and best metrics side by side, as a Markdown preview.
import * as vscode from 'vscode';
import { compareMetricNames, EXACT_MATCH, formatMetric } from '../../core/trainer/metrics';
import { formatDuration } from '../../core/trainer/run-state';
import type { RunNode, RunsTreeProvider } from './runs-tree';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function comparisonMarkdown(runs: readonly RunNode[]): string {
  const header = `| | ${runs.map((run) => cell(run.id)).join(' | ')} |`;
  const divider = `|---|${runs.map(() => '---').join('|')}|`;
  const row = (name: string, values: string[]) => `| ${name} | ${values.map(cell).join(' | ')} |`;
  const lines = ['# VIN OCR: run comparison', '', header, divider];
  lines.push(
    row(
      'status',
      runs.map((run) => run.state.status),
    ),
  );
  lines.push(
    row(
      'model',
      runs.map((run) => run.state.modelType ?? '–'),
    ),
  );
  lines.push(
    row(
      'device',
      runs.map((run) => [run.state.device, run.state.attention, run.state.dtype].filter(Boolean).join(' · ') || '–'),
    ),
  );
  lines.push(
    row(
      'steps',
      runs.map((run) => String(run.state.step)),
    ),
  );
  lines.push(
    row(
      'duration',
      runs.map((run) => (run.state.startedAt && run.state.finishedAt ? formatDuration(run.state.finishedAt - run.state.startedAt) : '–')),
    ),
  );
  const metrics = [...new Set(runs.flatMap((run) => Object.keys(run.state.bestMetrics)))].sort(compareMetricNames);
  const valueOf = (run: RunNode, metric: string) => {
    const value = run.state.bestMetrics[metric];
    return value === undefined ? '–' : formatMetric(metric, value);
  };
  for (const metric of metrics)
    lines.push(
      row(
        `**${metric}**`,
        runs.map((run) => valueOf(run, metric)),
      ),
    );
  return `${lines.join('\n')}\n`;
}

export async function compareRuns(tree: RunsTreeProvider, first?: RunNode): Promise<void> {
  const runs = tree.runs().filter((run) => run.dir);
  if (runs.length < 2) {
    void vscode.window.showInformationMessage('VIN OCR: comparing needs at least two runs.');
    return;
  }
  const items = runs.map((run) => {
    const exact = run.state.bestMetrics[EXACT_MATCH];
    const description = `${run.state.status}${exact !== undefined ? ` · exact ${formatMetric(EXACT_MATCH, exact)}` : ''}`;
    return { label: run.id, description, picked: run.dir === first?.dir, run };
  });
  const chosen = await vscode.window.showQuickPick(items, { canPickMany: true, title: 'VIN OCR: compare which runs? (two or more)' });
  if (!chosen || chosen.length < 2) return;
  const document = await vscode.workspace.openTextDocument({
    language: 'markdown',
    content: comparisonMarkdown(chosen.map((item) => item.run)),
  });
  await vscode.commands
    .executeCommand('markdown.showPreview', document.uri)
    .then(undefined, () => vscode.window.showTextDocument(document));
}
