import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findTrainerDir, runDoctor } from '../../../src/cli/doctor';
import { parseFacts } from '../../../src/core/hardware/facts-file';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { withTrainerPathsInReport } from '../../../src/core/hardware/requirements';
import type { DoctorReport, HardwareFacts } from '../../../src/core/hardware/types';

const FACTS = path.resolve('test/fixtures/hardware/facts');
const factsFile = (name: string): string => path.join(FACTS, `${name}.json`);

/** Runs `vin-ocr doctor …` in this process, capturing what it writes. */
async function doctor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
  try {
    const code = await runDoctor(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

describe('vin-ocr doctor', function () {
  this.timeout(60_000);

  it('prints the doctor contract for a facts file with --json', async () => {
    const { code, stdout } = await doctor('--facts', factsFile('a100-flash-attn'), '--json');
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as DoctorReport;
    const facts = JSON.parse(readFileSync(factsFile('a100-flash-attn'), 'utf8')) as HardwareFacts;
    assert.deepEqual(report, evaluatePolicy(facts));
    assert.equal(report.platform, 'cuda');
    assert.equal(report.attention, 'flash_attention_2');
    assert.deepEqual(Object.keys(report.models), ['deepseek-ai/DeepSeek-OCR', 'LiquidAI/LFM2.5-VL-1.6B', 'PaddleOCR', 'baseline']);
  });

  it('prints a readable table with reasons and warnings', async () => {
    const { code, stdout } = await doctor('--facts', factsFile('t4-cuda-torch'));
    assert.equal(code, 0);
    assert.match(stdout, /^VIN OCR doctor: the machine described in .*t4-cuda-torch\.json$/m);
    assert.match(stdout, /^ {2}GPU +Tesla T4 · 16\.1 GB VRAM \(15360 MiB\) · compute capability 7\.5$/m);
    assert.match(stdout, /^ {2}Platform +cuda +The trainer's torch 2\.6\.0\+cu124 sees CUDA on Tesla T4\.$/m);
    assert.match(stdout, /^ {2}deepseek-ai\/DeepSeek-OCR +optimal +cuda +eager$/m);
    assert.match(stdout, /^ {2}LiquidAI\/LFM2\.5-VL-1\.6B +optimal +cuda +sdpa$/m);
    assert.match(stdout, /^No warnings\.$/m);
  });

  it('names the cloud instances that would fit an insufficient model', async () => {
    const { stdout } = await doctor('--facts', factsFile('cpu-laptop-no-probe'));
    assert.match(stdout, /^ {2}deepseek-ai\/DeepSeek-OCR would fit on: g4dn\.xlarge \(T4 16 GB\) \(optimal\)/m);
    assert.match(stdout, /\[no-probe\]/);
  });

  const badFiles: Array<[string, string, RegExp]> = [
    ['malformed JSON', factsFile('malformed'), /malformed\.json: not valid JSON/],
    [
      'wrong values',
      factsFile('invalid-values'),
      new RegExp(
        /invalid-values\.json: not a hardware-facts file: os must be one of "linux", "darwin", "win32"; /.source +
          /cpu\.cores must be integer; ram_bytes must be > 0/.source,
      ),
    ],
    ['a missing file', path.join(FACTS, 'no-such-machine.json'), /no-such-machine\.json: no such file/],
    ['a folder', FACTS, /facts: is a folder, not a facts file/],
  ];
  for (const [what, file, message] of badFiles) {
    it(`exits 2 with a clear message for ${what}`, async () => {
      const { code, stdout, stderr } = await doctor('--facts', file);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('exits 2 with the usage for unknown options and stray arguments', async () => {
    for (const args of [['--bogus'], ['extra'], ['--facts']]) {
      const { code, stderr } = await doctor(...args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /Usage: vin-ocr doctor/);
    }
  });

  it('dumps facts that --facts reads back to the same report', async () => {
    const dumped = await doctor('--dump-facts', '--python', path.resolve('.venv/bin/python'));
    assert.equal(dumped.code, 0);
    const parsed = parseFacts(dumped.stdout);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const dir = mkdtempSync(path.join(tmpdir(), 'vin-ocr-doctor-'));
    try {
      const file = path.join(dir, 'this-machine.json');
      writeFileSync(file, dumped.stdout);
      const again = await doctor('--facts', file, '--json');
      assert.deepEqual(JSON.parse(again.stdout), withTrainerPathsInReport(evaluatePolicy(parsed.facts), findTrainerDir()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the bundled trainer from dist/ and from the sources', () => {
    const trainer = path.resolve('trainer');
    assert.equal(findTrainerDir(path.resolve('dist')), trainer);
    assert.equal(findTrainerDir(path.resolve('src/cli')), trainer);
  });
});
