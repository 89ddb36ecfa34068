// Config validation speed: a typical (≤ 100-line) and a 300-line config, median warm, against the
// budgets of issue 3 (2 ms and 5 ms), and side by side with yaml-language-server (the engine of Red
// Hat's YAML extension) validating the same documents against the same schemas.
import { readFileSync } from 'node:fs';
import { validateText } from '../src/core/config/validate';
import type { HardwareFacts } from '../src/core/hardware/types';

const facts = JSON.parse(readFileSync('test/fixtures/configs/facts/t4-linux.json', 'utf8')) as HardwareFacts;
const schema = JSON.parse(readFileSync('schemas/model-profile.schema.json', 'utf8')) as object;

/** A realistic profile: the existing project's DeepSeek-OCR profile plus `entries` more platform notes and alternatives. */
function profile(entries: number): string {
  let text = readFileSync('test/fixtures/configs/existing/configs/models/deepseek_ocr.yaml', 'utf8');
  text = text.replace('  attn_implementation: auto', '  attn_implementation: flash_attn_2  # a typo to report');
  const extra: string[] = ['', '# more alternatives for other machines'];
  extra.push('alternatives_notes_are_unknown: true');
  const alternatives: string[] = [];
  for (let index = 0; index < entries; index++) {
    alternatives.push(
      `  - condition: "cuda && vram < ${8 + index}"`,
      `    model_id: "LiquidAI/LFM2.5-VL-1.6B"`,
      `    model_name: "liquidai_${index}"`,
      `    notes: "Alternative ${index} for smaller GPUs"`,
    );
  }
  return text.replace(/^alternatives:\n/m, `alternatives:\n${alternatives.join('\n')}\n`) + extra.join('\n') + '\n';
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function timeOurs(text: string, iterations: number, fastPath = true): number[] {
  const options = { file: '/w/configs/models/deepseek_ocr.yaml', facts, fastPath };
  for (let index = 0; index < 50; index++) validateText(text, options);
  const samples: number[] = [];
  for (let index = 0; index < iterations; index++) {
    const started = performance.now();
    validateText(text, options);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function timeYamlLanguageServer(text: string, iterations: number): Promise<number[]> {
  const { getLanguageService } = await import('yaml-language-server');
  const { TextDocument } = await import('vscode-languageserver-textdocument');
  const service = getLanguageService({
    schemaRequestService: async (uri: string) => {
      throw new Error(`no network: ${uri}`);
    },
    workspaceContext: { resolveRelativePath: (relative: string, resource: string) => new URL(relative, resource).toString() },
  });
  service.configure({
    validate: true,
    schemas: [{ uri: 'file:///schemas/model-profile.schema.json', fileMatch: ['*.yaml'], schema }],
    customTags: [],
  });
  // A new version per run, as when the user types: neither side may answer from a cache of the same text.
  let version = 0;
  const once = async () =>
    service.doValidation(TextDocument.create('file:///w/configs/models/deepseek_ocr.yaml', 'yaml', ++version, text), false);
  for (let index = 0; index < 50; index++) await once();
  const samples: number[] = [];
  for (let index = 0; index < iterations; index++) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const cases = [
    { name: 'typical', text: profile(8), budgetMs: 2 },
    { name: '300-line', text: profile(60), budgetMs: 5 },
  ];
  for (const { name, text, budgetMs } of cases) {
    const lines = text.split('\n').length - 1;
    const problems = validateText(text, { file: '/w/configs/models/deepseek_ocr.yaml', facts }).length;
    const ours = timeOurs(text, 500);
    const fullParser = median(timeOurs(text, 300, false));
    const theirs = await timeYamlLanguageServer(text, 300);
    const ourMedian = median(ours);
    const theirMedian = median(theirs);
    console.log(
      `${name.padEnd(8)} ${String(lines).padStart(3)} lines, ${problems} problems: ` +
        `vin-ocr median ${ourMedian.toFixed(3)} ms (p95 ${percentile(ours, 0.95).toFixed(3)}) ` +
        `${ourMedian <= budgetMs ? '✓' : '✗'} budget ${budgetMs} ms [full yaml parser ${fullParser.toFixed(3)} ms] | ` +
        `yaml-language-server median ${theirMedian.toFixed(3)} ms (p95 ${percentile(theirs, 0.95).toFixed(3)}) | ` +
        `ratio ${(theirMedian / ourMedian).toFixed(1)}×`,
    );
  }
  // Hostile sizes: answered within 1 s.
  const block = 'model_id: deepseek-ai/DeepSeek-OCR\nhardware:\n  min_vram_gb: 8\n';
  const fiveMegabytes = block.repeat(Math.ceil((5 * 1024 * 1024) / block.length));
  let started = performance.now();
  validateText(fiveMegabytes, { file: '/w/configs/models/big.yaml' });
  console.log(`5 MB file answered in ${(performance.now() - started).toFixed(1)} ms`);
  const entry = '  - platform: cuda\n    attn_implementation: eager\n    notes: "an entry with some text to make it longer"\n';
  const nearLimit = `model_id: a/b\nhardware:\n  supported:\n${entry.repeat(2400)}`;
  started = performance.now();
  validateText(nearLimit, { file: '/w/configs/models/big.yaml' });
  console.log(
    `${(nearLimit.length / 1024).toFixed(0)} KB file (just under the parse limit) ` +
      `checked in ${(performance.now() - started).toFixed(1)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
