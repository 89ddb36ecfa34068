// `vin-ocr cloud` overhead on our side: from a plan request ("Train on Cloud…", `vin-ocr cloud launch`) to the
// moment `sky launch` is spawned: validating the config, resolving the instance, staging the trainer and the
// rewritten config, writing the task. SkyPilot's own time (API server, provisioning) is not ours and not here;
// the spawned `sky` is the stand-in, which exits at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { planCloudRun, removeStaging } from '../src/core/cloud/plan';
import { runSky, skyArgs } from '../src/core/cloud/sky';

const RUNS = 20;
const root = path.resolve(__dirname, '..');
const config = path.join(root, 'examples', 'baseline.yaml');
const standIn = path.join(root, 'test', 'fixtures', 'sky', 'sky-standin.mjs');

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Resolves when `sky` has been spawned (its first byte of output), not when it ends. */
function spawnSky(taskFile: string, cluster: string): Promise<void> {
  return new Promise((resolve) => {
    let first = true;
    void runSky({ path: standIn }, ['--version'], {
      onLine: () => {
        if (first) resolve();
        first = false;
      },
    });
    void skyArgs.launch(taskFile, cluster); // the arguments the launch would have
  });
}

async function main(): Promise<void> {
  const staging = mkdtempSync(path.join(tmpdir(), 'vin-ocr-cloud-bench-'));
  const plans: number[] = [];
  const spawns: number[] = [];
  try {
    for (let run = 0; run <= RUNS; run += 1) {
      const started = performance.now();
      const result = await planCloudRun({
        configPath: config,
        instance: 'g5.xlarge',
        nodes: 2,
        trainerDir: path.join(root, 'trainer'),
        stagingRoot: staging,
      });
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      const planned = performance.now();
      await spawnSky(result.plan.taskFile!, result.plan.clusterName);
      const spawned = performance.now();
      await removeStaging(result.plan);
      if (run === 0) continue; // the first run loads the modules and warms the file cache
      plans.push(planned - started);
      spawns.push(spawned - planned);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const total = plans.map((plan, index) => plan + spawns[index]!);
  console.log(`load average ${loadavg()[0]!.toFixed(2)}; ${RUNS} runs after one warm-up, examples/baseline.yaml on g5.xlarge × 2`);
  console.log(
    `plan (validate + stage trainer/vin_ocr + write task): median ${median(plans).toFixed(1)} ms, ` +
      `max ${Math.max(...plans).toFixed(1)} ms`,
  );
  console.log(`spawn to sky's first output (the stand-in, a Node script): median ${median(spawns).toFixed(1)} ms`);
  console.log(`plan request → sky running: median ${median(total).toFixed(1)} ms, max ${Math.max(...total).toFixed(1)} ms`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
