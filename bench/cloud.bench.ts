// Cloud training benchmarks (`npm run bench -- cloud.bench`), against `sky` stand-ins (no cloud, no SkyPilot):
//  1. "Train on Cloud…" confirmed → `sky launch` called: planning (config check, datasets, task) and staging
//     (the trainer copied into the workdir) plus the run folder and its record, through the real launcher.
//  2. The extension host's CPU while a remote run streams 5,000 events at 1,000/s: `sky launch` output (framed
//     job lines) → runSky → the SkyPilot launcher (framing stripped, paths made local, events.jsonl written) →
//     the run manager; side by side with the same events from a local trainer through the local launcher.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCloudRun } from '../src/core/cloud/plan';
import { runSky } from '../src/core/cloud/sky';
import { createSkyLauncher, type SkyRunner } from '../src/core/cloud/sky-launcher';
import { RunManager } from '../src/core/trainer/run-manager';

const root = join(__dirname, '..');
const standIn = join(root, 'test/fixtures/sky/sky-standin.mjs');
const trainerDir = join(root, 'trainer');
const rounds = Number(process.env.VIN_OCR_BENCH_ROUNDS ?? 10);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const scratch = mkdtempSync(join(tmpdir(), 'vin-ocr-cloud-bench-'));

/** One cloud run until its `sky launch` starts: milliseconds from the start (the confirmation), and in planning. */
async function confirmationToLaunch(config: string, round: number): Promise<{ total: number; planning: number }> {
  const runDir = join(scratch, `launch-${round}`, 'run');
  let launchedAt = 0;
  let planning = 0;
  const sky: SkyRunner = (args, options) => {
    if (args[0] === 'launch' && !launchedAt) launchedAt = performance.now();
    return runSky({ path: standIn }, args, { ...options, env: { ...process.env, SKY_STANDIN_SCENARIO: 'quota' } });
  };
  const launcher = createSkyLauncher({
    request: { configPath: config, instance: 'g5.xlarge', clusterName: `vin-ocr-bench-${round}`, trainerDir, stagingRoot: scratch },
    plan: async (request) => {
      const planStarted = performance.now();
      const plan = await planCloudRun(request);
      planning = performance.now() - planStarted;
      return plan;
    },
    sky,
    runDir,
    runId: 'run',
  });
  const manager = new RunManager({ launcher, maxConcurrent: 1 });
  const started = performance.now();
  const run = manager.start({ label: 'bench', configPath: config, python: 'remote', args: [], launcher });
  await run.done;
  await manager.dispose();
  if (!launchedAt) throw new Error(`sky launch was never called: ${run.state.errorCode} ${run.state.errorMessage}`);
  return { total: launchedAt - started, planning };
}

async function launchBenchmark(): Promise<void> {
  for (const name of ['test/fixtures/workspace/training/tiny.yaml', 'examples/baseline.yaml']) {
    const config = join(root, name);
    await confirmationToLaunch(config, -1); // warm the module and disk caches
    const runs: { total: number; planning: number }[] = [];
    for (let round = 0; round < rounds; round++) runs.push(await confirmationToLaunch(config, round));
    const times = runs.map((run) => run.total);
    console.log(
      `Train on Cloud confirmed → sky launch called (${name}, ${rounds} rounds): median ${median(times).toFixed(1)} ms, ` +
        `best ${Math.min(...times).toFixed(1)} ms, worst ${Math.max(...times).toFixed(1)} ms; ` +
        `of which planning and staging (planCloudRun) median ${median(runs.map((run) => run.planning)).toFixed(1)} ms`,
    );
  }
}

/** A `sky` that prints SkyPilot's launch preamble, then `count` framed progress events at `perSecond`, then the end. */
function floodingSky(count: number, perSecond: number): string {
  const script = join(scratch, 'flood-sky.mjs');
  const source = [
    '#!/usr/bin/env node',
    `const count = ${count}, perSecond = ${perSecond}, dir = '/home/ubuntu/vin-ocr-runs/bench';`,
    "const stamp = () => ({ time: new Date().toISOString(), run_id: 'bench' });",
    "const frame = (event) => '(vin-ocr-bench, pid=2345) ' + JSON.stringify({ ...stamp(), ...event });",
    "const started = { event: 'run_started', run_dir: dir, total_steps: count, device: 'cuda' };",
    "process.stdout.write('Job submitted, ID: 1\\n' + frame(started) + '\\n');",
    'let step = 0;',
    'const begin = Date.now();',
    'function tick() {',
    '  const due = Math.min(count, Math.floor(((Date.now() - begin) / 1000) * perSecond));',
    "  let out = '';",
    '  while (step < due) {',
    '    step += 1;',
    "    out += frame({ event: 'progress', step, total_steps: count, loss: 1 / step, fraction: step / count }) + '\\n';",
    '  }',
    '  if (out) process.stdout.write(out);',
    '  if (step < count) return setTimeout(tick, 5);',
    "  process.stdout.write(frame({ event: 'run_finished', status: 'completed', step }) + '\\n');",
    "  process.stdout.write('Job finished (status: SUCCEEDED).\\n');",
    '}',
    'tick();',
  ];
  writeFileSync(script, `${source.join('\n')}\n`);
  chmodSync(script, 0o755);
  return script;
}

/** One streamed run: events folded, wall time, and this process's CPU (the extension host's share). */
interface Figures {
  events: number;
  wallMs: number;
  cpuMs: number;
}

async function measure(start: (manager: RunManager) => ReturnType<RunManager['start']>, manager: RunManager): Promise<Figures> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const state = await start(manager).done;
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  await manager.dispose();
  if (state.status !== 'completed') throw new Error(`the run ended ${state.status}: ${state.errorCode} ${state.errorMessage}`);
  return { events: state.eventCount, wallMs, cpuMs: (cpu.user + cpu.system) / 1e3 };
}

async function streamingBenchmark(): Promise<void> {
  const count = 5e3;
  const perSecond = 1e3;
  const sky = floodingSky(count, perSecond);
  const cloud = async (round: number) => {
    const launcher = createSkyLauncher({
      request: { configPath: 'flood.yaml', instance: 'g5.xlarge', clusterName: 'vin-ocr-bench', trainerDir },
      plan: async () => ({
        ok: true,
        plan: {
          target: { id: 'g5.xlarge', label: 'g5.xlarge', gpusPerNode: 1 },
          nodes: 1,
          clusterName: 'vin-ocr-bench',
          autostopMinutes: 30,
          taskYaml: 'name: bench\n',
          workdir: scratch,
          remoteRunDir: '~/vin-ocr-runs',
          fileMounts: {},
          taskFile: join(scratch, 'task.yaml'),
        },
      }),
      sky: (args, options) => runSky({ path: sky }, args, options),
      runDir: join(scratch, `stream-${round}`),
      runId: 'bench',
    });
    const manager = new RunManager({ launcher, maxConcurrent: 1 });
    return measure((runs) => runs.start({ label: 'cloud', configPath: 'flood.yaml', python: 'remote', args: [], launcher }), manager);
  };
  const local = async () => {
    const manager = new RunManager({ trainerDir: join(root, 'test/unit/trainer/fixtures/fake-trainer'), maxConcurrent: 1 });
    const python = process.env.VIN_OCR_PYTHON ?? 'python3';
    return measure(
      (runs) => runs.start({ label: 'local', configPath: 'flood', python, args: ['flood', String(count), String(perSecond)] }),
      manager,
    );
  };
  const figures: { cloud: Figures[]; local: Figures[] } = { cloud: [], local: [] };
  for (let round = 0; round < 3; round++) {
    figures.cloud.push(await cloud(round));
    figures.local.push(await local());
  }
  const line = (name: string, runs: Figures[]) => {
    const best = runs.reduce((a, b) => (a.cpuMs <= b.cpuMs ? a : b));
    const percent = (best.cpuMs / best.wallMs) * 100;
    return (
      `  ${name}: ${best.events} events in ${(best.wallMs / 1e3).toFixed(1)} s, extension-host CPU ${best.cpuMs.toFixed(0)} ms ` +
      `(${percent.toFixed(1)}% of one core, ${((best.cpuMs / best.events) * 1e3).toFixed(0)} µs per event); ` +
      `all rounds: ${runs.map((run) => run.cpuMs.toFixed(0)).join(', ')} ms`
    );
  };
  console.log(`Streaming ${count} events at ${perSecond}/s into the run manager (best of 3 by CPU):`);
  console.log(line('cloud (sky launch output → SkyPilot launcher, events.jsonl written)', figures.cloud));
  console.log(line('local (trainer stdout → local launcher)', figures.local));
}

async function main(): Promise<void> {
  // A shared machine's load moves these figures: say what it was.
  console.log(
    `${cpus().length} cores, load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  try {
    await launchBenchmark();
    await streamingBenchmark();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
