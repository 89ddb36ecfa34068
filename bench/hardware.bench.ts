// Facts collection on this machine: cold (first call in a fresh process, module loading included),
// warm re-collection (force), and cached answers; per source, so the slowest one is named.
// Targets (issue 2): cold ≤ 2 s, cached ≤ 10 ms. Run: `npm run bench -- hardware`.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createFactsCollector, type CollectedFacts } from '../src/core/hardware/collect';
import { evaluatePolicy } from '../src/core/hardware/policy';
import { resolveInterpreter } from '../src/core/interpreter/resolve';

const COLD_TARGET_MS = 2_000;
const CACHED_TARGET_MS = 10;
const CACHED_RUNS = 200;

function verdict(ms: number, target: number): string {
  return ms <= target ? `ok (target ≤ ${target} ms)` : `OVER target ≤ ${target} ms`;
}

function sourceLines(collected: CollectedFacts): string[] {
  const entries = Object.entries(collected.sources).sort(([, a], [, b]) => b.ms - a.ms);
  return entries.map(
    ([name, source]) => `    ${name.padEnd(18)} ${source.ms.toFixed(0).padStart(6)} ms  ${source.ok ? 'ok' : `unknown (${source.error})`}`,
  );
}

function slowest(collected: CollectedFacts): string {
  const [name, source] = Object.entries(collected.sources).sort(([, a], [, b]) => b.ms - a.ms)[0]!;
  return `${name} (${source.ms.toFixed(0)} ms)`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  const venv = path.join(root, '.venv', 'bin', 'python');
  let started = performance.now();
  const interpreter = await resolveInterpreter({ setting: existsSync(venv) ? venv : undefined, workspaceFolders: [root] });
  const resolveMs = performance.now() - started;
  console.log(`interpreter resolution: ${resolveMs.toFixed(0)} ms → ${interpreter?.path ?? 'none'} (${interpreter?.source ?? '-'})`);

  const collector = createFactsCollector({ trainerDir: path.join(root, 'trainer') });
  started = performance.now();
  const cold = await collector.collect(interpreter?.path);
  const coldMs = performance.now() - started;
  console.log(`cold collection: ${coldMs.toFixed(0)} ms  ${verdict(coldMs, COLD_TARGET_MS)}; slowest source: ${slowest(cold)}`);
  for (const line of sourceLines(cold)) console.log(line);

  started = performance.now();
  const warm = await collector.collect(interpreter?.path, { force: true });
  const warmMs = performance.now() - started;
  console.log(`warm re-collection (force, modules loaded): ${warmMs.toFixed(0)} ms; slowest source: ${slowest(warm)}`);
  for (const line of sourceLines(warm)) console.log(line);

  const cachedTimes: number[] = [];
  for (let run = 0; run < CACHED_RUNS; run += 1) {
    started = performance.now();
    await collector.collect(interpreter?.path);
    cachedTimes.push(performance.now() - started);
  }
  const cachedMedian = median(cachedTimes);
  const cachedMax = Math.max(...cachedTimes);
  console.log(
    `cached collection: median ${cachedMedian.toFixed(3)} ms, max ${cachedMax.toFixed(3)} ms ` +
      `over ${CACHED_RUNS} calls  ${verdict(cachedMax, CACHED_TARGET_MS)}`,
  );

  const policyTimes: number[] = [];
  for (let run = 0; run < CACHED_RUNS; run += 1) {
    started = performance.now();
    evaluatePolicy(cold.facts);
    policyTimes.push(performance.now() - started);
  }
  console.log(`policy evaluation (with cloud suggestions): median ${median(policyTimes).toFixed(3)} ms`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
