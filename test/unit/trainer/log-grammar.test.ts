import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The grammar's regular expressions are Oniguruma in VS Code; these use only syntax JavaScript shares,
// so compiling them here catches typos, and the lines below are what the trainer really prints.
const root = join(__dirname, '../../../syntaxes');
interface Rule {
  match: string;
  name?: string;
  captures?: Record<string, { name: string }>;
}
const grammar = JSON.parse(readFileSync(join(root, 'vin-ocr-log.tmLanguage.json'), 'utf8')) as {
  scopeName: string;
  repository: Record<string, Rule>;
};
const injection = JSON.parse(readFileSync(join(root, 'vin-ocr-log.injection.tmLanguage.json'), 'utf8')) as {
  injectionSelector: string;
  repository: Record<string, Rule>;
};
const rule = (name: string) => new RegExp(grammar.repository[name]!.match);

describe('training log grammar', () => {
  it('compiles every rule', () => {
    for (const [name, entry] of Object.entries({ ...grammar.repository, ...injection.repository }))
      assert.doesNotThrow(() => new RegExp(entry.match), name);
    assert.equal(grammar.scopeName, 'text.vin-ocr-log');
    assert.equal(injection.injectionSelector, 'L:text.log');
  });

  it('finds steps, metrics, throughput and the progress bar in a progress line', () => {
    const line = '18:02:11 [######------------------] step 120/480 loss 0.4312 912 img/s eta 01:23';
    assert.deepEqual(rule('step').exec(line)?.slice(1), ['step', '120', '/', '480']);
    assert.equal(rule('metric').exec(line)?.[3], '0.4312');
    assert.ok(rule('progressBar').test(line));
    assert.ok(rule('throughput').test(line));
    assert.ok(rule('timestamp').test(line));
  });

  it('tells errors and warnings apart from ordinary lines', () => {
    assert.ok(rule('error').test('RuntimeError: CUDA out of memory'));
    assert.ok(rule('error').test('Traceback (most recent call last):'));
    assert.ok(rule('warning').test('UserWarning: something deprecated'));
    assert.ok(!rule('error').test('test exact match 93.10% (best checkpoint, step 480)'));
    assert.equal(rule('metric').exec('test exact match 93.10%')?.[3], '93.10%');
    assert.ok(rule('path').test('data/labels.txt:14: not a valid VIN'));
  });
});
