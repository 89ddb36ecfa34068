// The trainer's Python benchmarks, so `npm run bench` covers them too (`npm run bench -- trainer`).
// Each prints its own figures; they need the .venv that `npm run demo` or `npm test` creates.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const python = '.venv/bin/python';
if (!existsSync(python)) {
  console.log('skipped: no .venv yet (run `bash scripts/setup-python.sh`)');
} else {
  const benches = [
    ['bench/render_bench.py', '--seconds', '4', '--width', '160'],
    ['bench/trainer_bench.py', '--steps', '40'],
    ['bench/hf_bench.py', '--steps', '8'],
  ];
  let failed = 0;
  for (const args of benches) {
    console.log(`\n--- ${args.join(' ')}`);
    if (spawnSync(python, args, { stdio: 'inherit' }).status !== 0) failed += 1;
  }
  process.exitCode = failed ? 1 : 0;
}
