// `vin-ocr runs [OUTPUT_DIR…] [--json]`: the runs the Runs tree shows, read from their folders.
import { parseArgs } from 'node:util';
import { EXACT_MATCH, exactMatchOf, formatMetric } from '../core/trainer/metrics';
import { budgetProgress, stepCountText } from '../core/trainer/progress';
import { DEFAULT_OUTPUT_DIR } from '../core/trainer/run-layout';
import { formatDuration, type RunState } from '../core/trainer/run-state';
import { listRuns, type StoredRun } from '../core/trainer/run-store';

export const RUNS_USAGE = `Usage: vin-ocr runs [OUTPUT_DIR…] [--json]

  OUTPUT_DIR…   folders holding run directories (default: ./${DEFAULT_OUTPUT_DIR})
  --json        print the runs as a JSON array
`;

function durationOf(run: RunState & { modifiedAt: number }): string {
  if (run.startedAt === undefined) return '';
  return formatDuration((run.finishedAt ?? run.modifiedAt) - run.startedAt);
}

function bestExactMatchText(run: RunState): string {
  const value = exactMatchOf(run.bestMetrics);
  return value === undefined ? '' : formatMetric(EXACT_MATCH, value);
}

/** Steps with their total only where the step budget ended (or ends) the run. */
function stepsOf(run: StoredRun): string {
  const progress = budgetProgress({ ...run, finishedAt: run.finishedAt ?? (run.status === 'running' ? undefined : run.modifiedAt) });
  return stepCountText({ step: run.step, totalSteps: run.totalSteps, budget: progress?.budget });
}

export function formatRunsTable(runs: StoredRun[]): string {
  if (runs.length === 0) return 'No runs found.\n';
  const rows = runs.map((run) => [run.id, run.status, stepsOf(run), bestExactMatchText(run), durationOf(run), run.dir]);
  const header = ['RUN', 'STATUS', 'STEP', 'BEST EXACT', 'DURATION', 'FOLDER'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function runRuns(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`vin-ocr runs: ${error instanceof Error ? error.message : String(error)}\n\n${RUNS_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(RUNS_USAGE);
    return 0;
  }
  const folders = parsed.positionals.length > 0 ? parsed.positionals : [DEFAULT_OUTPUT_DIR];
  const runs = (await Promise.all(folders.map((folder) => listRuns(folder)))).flat();
  process.stdout.write(parsed.values.json ? JSON.stringify(runs, null, 2) + '\n' : formatRunsTable(runs));
  return 0;
}
