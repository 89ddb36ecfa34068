// Training benchmarks (`npm run bench -- training`):
//  1. "Train" → first progress event through the extension's launch code (RunManager → local launcher →
//     event reader) versus a bare spawn of `python -m vin_ocr train` reading stdout: ratio ≤ 1.05.
//  2. A trainer emitting 1,000 events/s through the reader, the run state fold and the Training view's
//     chart batching: per-event latency (trainer write → batch handed to the webview) and CPU use.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunManager } from '../src/core/trainer/run-manager';
import { trainArgs } from '../src/core/trainer/trainer-args';
import { ChartFeed } from '../src/features/training/chart-feed';

const root = join(__dirname, '..');
const python = existsSync(join(root, '.venv/bin/python')) ? join(root, '.venv/bin/python') : 'python3';
const trainerDir = join(root, 'trainer');
const config = join(root, 'test/fixtures/workspace/training/tiny.yaml');
const rounds = Number(process.env.VIN_OCR_BENCH_ROUNDS ?? 3);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

/** Bare spawn: the same command and environment, stdout scanned for the first progress line. */
function bareFirstProgress(args: string[], dir = trainerDir): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(python, ['-m', 'vin_ocr', ...args], {
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: dir },
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (/"(event|type)": "progress"/.test(buffer)) {
        const elapsed = performance.now() - started;
        process.kill(-child.pid!, 'SIGKILL');
        resolve(elapsed);
      }
    });
    child.on('error', reject);
    child.on('close', () => reject(new Error('trainer exited before its first progress event')));
  });
}

/** Through the extension's code path: queue, launch (own process group), reader, classifier, fold. */
async function launchedFirstProgress(args: string[], dir = trainerDir): Promise<number> {
  const manager = new RunManager({ trainerDir: dir, maxConcurrent: 1, cancelGraceMs: 100 });
  const started = performance.now();
  let elapsed = 0;
  const run = manager.start({ label: 'bench', configPath: config, python, args });
  await new Promise<void>((resolve) => {
    manager.subscribe({
      event: (_run, event) => {
        if (event.type === 'progress' && elapsed === 0) {
          elapsed = performance.now() - started;
          resolve();
        }
      },
    });
  });
  run.cancel();
  await run.done;
  await manager.dispose();
  return elapsed;
}

async function firstProgressBenchmark(): Promise<void> {
  const output = mkdtempSync(join(tmpdir(), 'vin-ocr-bench-'));
  const args = [...trainArgs(config), '--output-dir', output];
  const bare: number[] = [];
  const launched: number[] = [];
  await bareFirstProgress(args); // warm the disk cache (torch import) so neither side pays it alone
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so drift on a shared machine hits both sides alike.
    if (round % 2 === 0) {
      bare.push(await bareFirstProgress(args));
      launched.push(await launchedFirstProgress(args));
    } else {
      launched.push(await launchedFirstProgress(args));
      bare.push(await bareFirstProgress(args));
    }
  }
  rmSync(output, { recursive: true, force: true });
  const ratio = median(launched) / median(bare);
  // The best of each side is the least disturbed by other load on a shared machine.
  const bestRatio = Math.min(...launched) / Math.min(...bare);
  console.log(
    `Train → first progress event (${rounds} rounds): ` +
      `median bare ${median(bare).toFixed(0)} ms vs launched ${median(launched).toFixed(0)} ms (ratio ${ratio.toFixed(3)}); ` +
      `best ${Math.min(...bare).toFixed(0)} vs ${Math.min(...launched).toFixed(0)} ms (ratio ${bestRatio.toFixed(3)}); target ≤ 1.05`,
  );
  console.log(`  bare: ${bare.map((ms) => ms.toFixed(0)).join(', ')} ms; launched: ${launched.map((ms) => ms.toFixed(0)).join(', ')} ms`);
}

/**
 * The same comparison against a trainer that starts in tens of milliseconds (the fake trainer's flood mode):
 * torch's import no longer hides the launch code's own overhead, so this is the stricter measure.
 */
async function launchOverheadBenchmark(): Promise<void> {
  const fake = join(root, 'test/unit/trainer/fixtures/fake-trainer');
  const args = ['flood', '3', '0'];
  const bare: number[] = [];
  const launched: number[] = [];
  const fastRounds = 15;
  await bareFirstProgress(args, fake);
  for (let round = 0; round < fastRounds; round++) {
    if (round % 2 === 0) {
      bare.push(await bareFirstProgress(args, fake));
      launched.push(await launchedFirstProgress(args, fake));
    } else {
      launched.push(await launchedFirstProgress(args, fake));
      bare.push(await bareFirstProgress(args, fake));
    }
  }
  console.log(
    `Launch overhead with a fast-starting trainer (${fastRounds} rounds): ` +
      `median bare ${median(bare).toFixed(1)} ms vs launched ${median(launched).toFixed(1)} ms ` +
      `(ratio ${(median(launched) / median(bare)).toFixed(3)}); ` +
      `best ${Math.min(...bare).toFixed(1)} vs ${Math.min(...launched).toFixed(1)} ms`,
  );
}

async function eventRateBenchmark(): Promise<void> {
  const count = 5000;
  const perSecond = 1000;
  const manager = new RunManager({ trainerDir: join(root, 'test/unit/trainer/fixtures/fake-trainer'), maxConcurrent: 1 });
  const feed = new ChartFeed();
  const readerLatency: number[] = [];
  const screenLatency: number[] = [];
  const waiting: number[] = []; // trainer timestamps (ms) of events not yet handed to the webview
  let flushes = 0;
  let notifications = 0;
  const flushTimer = setInterval(() => {
    // The Training view's flush: one batch per 100 ms; the webview then draws on its next frame (≤ 16.7 ms).
    const handedOver = Date.now();
    if (feed.drain().size > 0) flushes += 1;
    for (const sent of waiting.splice(0)) screenLatency.push(handedOver - sent + 1000 / 60);
  }, 100);
  manager.subscribe({
    event: (run, event) => {
      if (event.type !== 'progress' || event.time === undefined) return;
      readerLatency.push(Date.now() - event.time);
      feed.add(run, event);
      waiting.push(event.time);
    },
    runChanged: () => (notifications += 1),
  });
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const run = manager.start({ label: 'flood', configPath: 'flood', python, args: ['flood', String(count), String(perSecond)] });
  const state = await run.done;
  const wall = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(flushTimer);
  for (const sent of waiting.splice(0)) screenLatency.push(Date.now() - sent + 1000 / 60);
  await manager.dispose();
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / wall) * 100;
  console.log(`1,000 events/s for ${(wall / 1000).toFixed(1)} s (${state.eventCount} events, status ${state.status}):`);
  console.log(
    `  trainer write → parsed event: p50 ${percentile(readerLatency, 50)} ms, ` +
      `p95 ${percentile(readerLatency, 95)} ms, max ${Math.max(...readerLatency)} ms`,
  );
  console.log(
    `  trainer write → on screen (batch + one frame): p50 ${percentile(screenLatency, 50).toFixed(0)} ms, ` +
      `p95 ${percentile(screenLatency, 95).toFixed(0)} ms, max ${Math.max(...screenLatency).toFixed(0)} ms (target ≤ 250 ms)`,
  );
  console.log(`  extension-host CPU: ${cpuPercent.toFixed(1)}% of one core; ${flushes} chart batches, ${notifications} UI notifications`);
}

async function main(): Promise<void> {
  if (!existsSync(join(trainerDir, 'vin_ocr', '__main__.py'))) throw new Error('trainer package missing');
  await eventRateBenchmark();
  await launchOverheadBenchmark();
  await firstProgressBenchmark();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
