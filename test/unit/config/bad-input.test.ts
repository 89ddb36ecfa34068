import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Problem } from '../../../src/core/config/problem';
import { validateBytes, validateText } from '../../../src/core/config/validate';
import { completionsAt, hoverAt } from '../../../src/core/config/assist';

const PROFILE = 'configs/models/hostile.yaml';

/** Every bad input must be answered, quickly, with problems rather than exceptions. */
function answeredQuickly(run: () => Problem[], budgetMs = 1000): Problem[] {
  const started = performance.now();
  const problems = run();
  const elapsed = performance.now() - started;
  assert.ok(elapsed < budgetMs, `took ${elapsed.toFixed(0)} ms`);
  for (const problem of problems) {
    assert.ok(problem.line >= 1 && problem.column >= 1, 'positions are 1-based');
    assert.ok(problem.endLine > problem.line || (problem.endLine === problem.line && problem.endColumn >= problem.column));
  }
  return problems;
}

const codes = (problems: Problem[]) => [...new Set(problems.map((problem) => problem.code))];

describe('bad input never crashes or hangs', () => {
  it('an empty file has nothing to report', () => {
    assert.deepEqual(
      answeredQuickly(() => validateText('', { file: PROFILE })),
      [],
    );
  });

  it('a file of only comments has nothing to report', () => {
    assert.deepEqual(
      answeredQuickly(() => validateText('# nothing here\n# at all\n', { file: PROFILE })),
      [],
    );
  });

  it('binary bytes are reported as a binary file', () => {
    const bytes = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
    assert.deepEqual(codes(answeredQuickly(() => validateBytes(bytes, { file: PROFILE }))), ['binary-file']);
    assert.deepEqual(codes(answeredQuickly(() => validateText('model_id: a\u0000b\n', { file: PROFILE }))), ['binary-file']);
  });

  it('invalid UTF-8 is reported at the line of the bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('model_id: a/b\nmodel_name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const problems = answeredQuickly(() => validateBytes(bytes, { file: PROFILE }));
    assert.deepEqual(codes(problems), ['invalid-utf8']);
    assert.equal(problems[0]!.line, 2);
  });

  it('a BOM and CRLF line endings validate like a plain file, with the same positions', () => {
    const lf = 'model_id: a/b\ntraining:\n  attn_implementation: sdpaa\n';
    const crlfBom = Buffer.from(`\uFEFF${lf.replace(/\n/g, '\r\n')}`, 'utf8');
    const fromBytes = answeredQuickly(() => validateBytes(crlfBom, { file: PROFILE }));
    const plain = validateText(lf, { file: PROFILE });
    assert.deepEqual(
      fromBytes.map(({ line, column, endColumn, code }) => ({ line, column, endColumn, code })),
      plain.map(({ line, column, endColumn, code }) => ({ line, column, endColumn, code })),
    );
    assert.equal(plain[0]!.code, 'invalid-enum');
  });

  it('tab indentation is a syntax error at the tab', () => {
    const problems = answeredQuickly(() => validateText('model_id: a/b\nhardware:\n\tmin_vram_gb: 8\n', { file: PROFILE }));
    assert.ok(problems.some((problem) => problem.code === 'yaml-syntax' && problem.line === 3));
  });

  it('an alias bomb ("billion laughs") is refused, not expanded', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [name, previous] of [
      ['b', 'a'],
      ['c', 'b'],
      ['d', 'c'],
      ['e', 'd'],
      ['f', 'e'],
      ['g', 'f'],
      ['h', 'g'],
      ['i', 'h'],
    ]) {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const problems = answeredQuickly(() => validateText(`model_id: x\n${lines.join('\n')}\n`, { file: PROFILE }));
    assert.deepEqual(codes(problems), ['alias-limit']);
    assert.equal(problems[0]!.line, 3, 'points at the first alias');
  });

  it('20,000-deep flow nesting is refused before parsing', () => {
    const text = `model_id: ${'['.repeat(20000)}${']'.repeat(20000)}\n`;
    const problems = answeredQuickly(() => validateText(text, { file: PROFILE }));
    assert.deepEqual(codes(problems), ['too-deep']);
  });

  it('20,000-deep block sequences are answered without overflowing the stack', () => {
    const text = `${'- '.repeat(20000)}x\n`;
    assert.ok(codes(answeredQuickly(() => validateText(text, { file: PROFILE }))).includes('too-deep'));
  });

  it('deep block mappings are answered', () => {
    const text = Array.from({ length: 600 }, (_, depth) => `${' '.repeat(depth)}k${depth}:`).join('\n');
    assert.ok(codes(answeredQuickly(() => validateText(text, { file: PROFILE }))).includes('too-deep'));
  });

  it('a 5 MB file is answered within a second', () => {
    const block = 'model_id: deepseek-ai/DeepSeek-OCR\nhardware:\n  min_vram_gb: 8\n';
    const text = block.repeat(Math.ceil((5 * 1024 * 1024) / block.length));
    assert.deepEqual(codes(answeredQuickly(() => validateText(text, { file: PROFILE }))), ['file-too-large']);
  });

  it('a 2 MB single line is answered within a second', () => {
    const text = `model_id: "${'x'.repeat(2 * 1024 * 1024)}"`;
    assert.deepEqual(codes(answeredQuickly(() => validateText(text, { file: PROFILE }))), ['file-too-large']);
  });

  it('a file just under the size limit is fully checked within a second', () => {
    const entry = (index: number) =>
      `  - platform: cuda\n    attn_implementation: eager\n    notes: "entry ${index} with some text to make it longer"\n`;
    let body = 'model_id: a/b\nhardware:\n  supported:\n';
    for (let index = 0; body.length < 250 * 1024; index++) body += entry(index);
    const problems = answeredQuickly(() => validateText(`${body}  min_vram_gb: -1\n`, { file: PROFILE }));
    assert.deepEqual(codes(problems), ['out-of-range']);
  });

  it('enormous numbers are type or range errors, not crashes', () => {
    const text =
      'model_id: a/b\nhardware:\n  min_vram_gb: 1e400\n  min_ram_gb: 123456789012345678901234567890\n' +
      'training:\n  max_new_tokens: 99999999999999999999999\n';
    const problems = answeredQuickly(() => validateText(text, { file: PROFILE }));
    assert.deepEqual(
      problems.map((problem) => problem.line),
      [3, 4, 6],
    );
  });

  it('scalar and list roots are wrong types, not crashes', () => {
    assert.deepEqual(codes(answeredQuickly(() => validateText('just a string\n', { file: PROFILE }))), ['wrong-type']);
    assert.deepEqual(codes(answeredQuickly(() => validateText('- a\n- b\n', { file: PROFILE }))), ['wrong-type']);
    assert.deepEqual(codes(answeredQuickly(() => validateText('42\n', { file: PROFILE }))), ['wrong-type']);
  });

  it('hostile tags are never resolved: information only', () => {
    const text =
      'model_id: !!python/object/apply:os.system ["rm -rf /"]\n' +
      'model_name: !!js/function "function(){}"\nloader: !<tag:evil.example,2024:x> y\n';
    const problems = answeredQuickly(() => validateText(text, { file: PROFILE }));
    assert.ok(problems.filter((problem) => problem.code === 'unknown-tag').length >= 3);
    assert.ok(problems.every((problem) => problem.code !== 'unknown-tag' || problem.severity === 'info'));
  });

  it('thousands of errors are capped so the Problems panel is not flooded', () => {
    const text = `model_id: a/b\n${Array.from({ length: 3000 }, (_, index) => `unknown_${index}: 1`).join('\n')}\n`;
    const problems = answeredQuickly(() => validateText(text, { file: PROFILE }));
    assert.equal(problems.length, 501);
    assert.match(problems[500]!.message, /more problems not shown/);
  });

  it('completion and hover survive the same inputs', () => {
    const inputs = ['', '\u0000\u0001', `${'['.repeat(20000)}`, `model_id: ${'x'.repeat(2 * 1024 * 1024)}`, '- - - - x', 'a: &a [*a]'];
    for (const text of inputs) {
      const started = performance.now();
      completionsAt(text, text.length, { file: PROFILE });
      hoverAt(text, Math.floor(text.length / 2), { file: PROFILE });
      assert.ok(performance.now() - started < 1000);
    }
  });
});

describe('completion and hover at every position', () => {
  const sources = [
    readFileSync('test/fixtures/configs/mistakes/configs/models/deepseek_mistakes.yaml', 'utf8'),
    readFileSync('test/fixtures/configs/existing/configs/liquidai_finetune.yaml', 'utf8').replace(/\n/g, '\r\n'),
    'model:\n  type: baseline\n- broken: [\n\t"unterminated\n',
  ];
  it('never throw, whatever the cursor sits on', () => {
    for (const text of sources) {
      for (let offset = 0; offset <= text.length; offset++) {
        completionsAt(text, offset, { file: PROFILE });
        hoverAt(text, offset, { file: PROFILE });
      }
    }
  });
});
