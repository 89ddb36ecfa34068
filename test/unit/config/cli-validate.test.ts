import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runValidate } from '../../../src/cli/validate';
import { fixture } from './helpers';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runValidate(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), cwd: resolve('.') });
  return { code, stdout, stderr };
}

const mistakes = fixture('mistakes', 'configs', 'models', 'deepseek_mistakes.yaml');
const clean = fixture('existing', 'configs', 'models', 'liquidai.yaml');

describe('vin-ocr validate', () => {
  it('prints file:line:col severity code message and exits 1 on errors', async () => {
    const { code, stdout, stderr } = await run([mistakes]);
    assert.equal(code, 1);
    assert.ok(
      stdout
        .split('\n')
        .includes(
          `${mistakes}:16:24 error invalid-enum "flash_attn_2" is not a valid training.attn_implementation; ` +
            'did you mean "flash_attention_2"? Allowed: auto, flash_attention_2, sdpa, eager.',
        ),
    );
    assert.match(stderr, /4 errors, 2 warnings, 0 info in 1 file/);
  });

  it('exits 0 for clean files and for warnings only', async () => {
    assert.equal((await run([clean])).code, 0);
    const warningsOnly = await run([fixture('mistakes', 'configs', 'models', 'liquidai_old_transformers.yaml')]);
    assert.equal(warningsOnly.code, 0);
    assert.match(warningsOnly.stdout, / warning transformers-too-old /);
  });

  it('prints the JSON contract: 1-based positions and exactly the contract fields', async () => {
    const { code, stdout } = await run([mistakes, '--json']);
    assert.equal(code, 1);
    const problems = JSON.parse(stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(problems[0]!).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
    assert.ok(
      problems.some(
        (problem) => problem.line === 17 && problem.column === 3 && problem.code === 'unknown-key' && problem.severity === 'warning',
      ),
    );
  });

  it('judges hardware rules against --facts', async () => {
    const { stdout } = await run([
      fixture('existing', 'configs', 'models', 'deepseek_ocr.yaml'),
      '--facts',
      fixture('facts', 'macbook-m1-8gb.json'),
    ]);
    assert.match(stdout, /:2:11 warning model-does-not-fit DeepSeek-OCR does not fit this machine/);
  });

  it('answers usage errors with exit 2', async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['--bogus', clean])).code, 2);
    assert.equal((await run([clean, '--facts'])).code, 2);
    assert.equal((await run([fixture('does-not-exist.yaml')])).code, 2);
    assert.equal((await run([fixture('facts')])).code, 2, 'a folder is not a file');
    const badFacts = await run([clean, '--facts', fixture('existing', 'configs', 'deepseek_finetune.yaml')]);
    assert.equal(badFacts.code, 2);
    assert.match(badFacts.stderr, /facts file .*not valid JSON/);
  });

  it('reports binary, oversized and foreign files as problems, not crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vin-ocr-validate-'));
    try {
      writeFileSync(join(dir, 'image.yaml'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
      writeFileSync(join(dir, 'huge.yaml'), Buffer.alloc(6 * 1024 * 1024, 0x61));
      writeFileSync(join(dir, 'ci.yaml'), 'name: CI\non: push\n');
      const { code, stdout } = await run([join(dir, 'image.yaml'), join(dir, 'huge.yaml'), join(dir, 'ci.yaml')]);
      assert.equal(code, 1);
      assert.match(stdout, /image\.yaml:1:1 error binary-file/);
      assert.match(stdout, /huge\.yaml:1:1 error file-too-large/);
      assert.match(stdout, /ci\.yaml:1:1 info not-a-config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs as the vin-ocr command with the documented exit status', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'validate', mistakes], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stdout, /deepseek_mistakes\.yaml:10:28 error deepseek-sdpa /);
  });
});

describe('the $vin-ocr-validate problem matcher', () => {
  it('its pattern reads every field of the human output, Windows paths included', async () => {
    const pkg = (await import('../../../package.json', { with: { type: 'json' } })).default as unknown as {
      contributes: {
        problemMatchers: Array<{
          name: string;
          pattern: { regexp: string; file: number; line: number; column: number; severity: number; code: number; message: number };
        }>;
      };
    };
    const matcher = pkg.contributes.problemMatchers.find((candidate) => candidate.name === 'vin-ocr-validate')!;
    const regexp = new RegExp(matcher.pattern.regexp);
    const match = regexp.exec(
      'C:\\work\\configs\\models\\x.yaml:16:24 error invalid-enum "flash_attn_2" is not valid; did you mean "flash_attention_2"?',
    )!;
    assert.equal(match[matcher.pattern.file], 'C:\\work\\configs\\models\\x.yaml');
    assert.equal(match[matcher.pattern.line], '16');
    assert.equal(match[matcher.pattern.column], '24');
    assert.equal(match[matcher.pattern.severity], 'error');
    assert.equal(match[matcher.pattern.code], 'invalid-enum');
    assert.match(match[matcher.pattern.message]!, /^"flash_attn_2" is not valid/);
  });
});
