// "Read VIN from Image", end to end through the extension's own code path (`npm run bench -- read-vin`):
// the local launcher spawns `python -m vin_ocr predict --checkpoint C --json IMAGE` exactly as the command does
// (runTrainerOnce, the same arguments and environment), and the reads are parsed as the command parses them.
// Only the notification is left out (vscode.window, not available outside VS Code). Target: ≤ 1 s warm.
//  - the shipped reader (default `pretrained`): ONNX Runtime when installed (torch is never imported);
//  - the shipped reader through PyTorch (`--backend torch`), the path before the ONNX export was shipped;
//  - a user's .pt checkpoint (PyTorch), for comparison.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { runTrainerOnce } from '../src/core/trainer/launch';
import { createLocalLauncher } from '../src/core/trainer/local-launcher';
import { parsePredictOutput, predictArgs } from '../src/core/trainer/trainer-args';

const root = join(__dirname, '..');
const python = existsSync(join(root, '.venv/bin/python')) ? join(root, '.venv/bin/python') : 'python3';
const image = join(root, 'test/fixtures/workspace/training/read/images/vin_12.png');
const shippedPt = join(root, 'trainer/vin_ocr/pretrained/vin-reader.pt');
const rounds = Number(process.env.VIN_OCR_BENCH_ROUNDS ?? 5);
const launcher = createLocalLauncher({ trainerDir: join(root, 'trainer') });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function readOnce(args: string[]): Promise<number> {
  const started = performance.now();
  const outcome = await runTrainerOnce(launcher, { python, args, timeoutMs: 120_000 });
  const elapsed = performance.now() - started;
  const reads = parsePredictOutput(outcome.stdout);
  if (!Array.isArray(reads) || typeof reads[0]?.vin !== 'string') throw new Error(`predict failed: ${outcome.stderr.join('\n')}`);
  return elapsed;
}

async function main(): Promise<void> {
  const cases: [string, string[]][] = [
    ['shipped reader (default: ONNX Runtime)', predictArgs('pretrained', [image])],
    ['shipped reader through PyTorch', [...predictArgs('pretrained', [image]), '--backend', 'torch']],
    ['a .pt checkpoint (PyTorch)', predictArgs(shippedPt, [image])],
  ];
  console.log(`Read VIN end to end (spawn → reads parsed), ${rounds} warm rounds after one cold; ${cpus().length} cores`);
  for (const [label, args] of cases) {
    const cold = await readOnce(args);
    const warm: number[] = [];
    for (let round = 0; round < rounds; round += 1) warm.push(await readOnce(args));
    console.log(`${label.padEnd(42)} cold ${cold.toFixed(0).padStart(6)} ms   warm median ${median(warm).toFixed(0).padStart(6)} ms`);
  }
  console.log(`load average ${loadavg()[0]!.toFixed(2)}`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
