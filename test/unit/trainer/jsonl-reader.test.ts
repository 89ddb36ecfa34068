import * as assert from 'node:assert/strict';
import { JsonLinesReader, LineSplitter, type LineProblem } from '../../../src/core/trainer/jsonl-reader';

function collect(maxLineBytes?: number) {
  const values: unknown[] = [];
  const problems: LineProblem[] = [];
  const reader = new JsonLinesReader({ value: (value) => values.push(value), problem: (problem) => problems.push(problem) }, maxLineBytes);
  return { reader, values, problems };
}

describe('JsonLinesReader', () => {
  it('parses one value per line and skips blank lines', () => {
    const { reader, values, problems } = collect();
    reader.push('{"event":"progress","step":1}\n\n{"event":"progress","step":2}\r\n');
    assert.deepEqual(values, [
      { event: 'progress', step: 1 },
      { event: 'progress', step: 2 },
    ]);
    assert.deepEqual(problems, []);
  });

  it('joins a line cut across chunks, also inside a multi-byte character', () => {
    const { reader, values } = collect();
    const bytes = Buffer.from('{"message":"Prüfziffer ✓"}\n');
    const cut = bytes.indexOf(Buffer.from('✓')) + 1; // in the middle of the 3-byte tick
    reader.push(bytes.subarray(0, 5));
    reader.push(bytes.subarray(5, cut));
    assert.deepEqual(values, []);
    reader.push(bytes.subarray(cut));
    assert.deepEqual(values, [{ message: 'Prüfziffer ✓' }]);
  });

  it('reports garbage lines and goes on with the next line', () => {
    const { reader, values, problems } = collect();
    reader.push('Warning: something from a library\n{"a":1}\n{"broken":\n[1,2]\n');
    assert.deepEqual(values, [{ a: 1 }, [1, 2]]);
    assert.equal(problems.length, 2);
    assert.deepEqual(
      problems.map((problem) => problem.kind),
      ['not-json', 'not-json'],
    );
    assert.equal((problems[0] as { line: string }).line, 'Warning: something from a library');
  });

  it('drops a line over the cap without holding it in memory, then reads on', () => {
    const { reader, values, problems } = collect(1000);
    reader.push('{"big":"');
    for (let i = 0; i < 100; i += 1) reader.push('x'.repeat(500));
    reader.push('"}\n{"after":true}\n');
    assert.deepEqual(values, [{ after: true }]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.kind, 'too-long');
    assert.ok((problems[0] as { bytes: number }).bytes > 50_000);
    assert.equal((reader as unknown as { pending: string }).pending, '');
  });

  it('handles a final line without a newline at end()', () => {
    const { reader, values } = collect();
    reader.push('{"last":1}');
    assert.deepEqual(values, []);
    reader.end();
    assert.deepEqual(values, [{ last: 1 }]);
  });

  it('survives a handler that throws', () => {
    const seen: unknown[] = [];
    const problems: LineProblem[] = [];
    const reader = new JsonLinesReader({
      value: (value) => {
        seen.push(value);
        if ((value as { n: number }).n === 1) throw new Error('listener bug');
      },
      problem: (problem) => problems.push(problem),
    });
    reader.push('{"n":1}\n{"n":2}\n');
    assert.equal(seen.length, 2);
    assert.match((problems[0] as { error: string }).error, /listener bug/);
  });
});

describe('LineSplitter', () => {
  it('splits text across chunks and cuts endless lines into pieces', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line), 10);
    splitter.push('ab');
    splitter.push('c\r\nde');
    splitter.push('f'.repeat(25));
    splitter.end();
    assert.deepEqual(lines, ['abc', 'deffffffff', 'ffffffffff', 'fffffff']);
  });
});
