import * as assert from 'node:assert/strict';
import { globMatches, kindFromData, kindFromModeline, kindFromPath } from '../../../src/core/config/kinds';
import { detectKind, validateText } from '../../../src/core/config/validate';

describe('recognising the kind of config', () => {
  it('follows the existing project path conventions', () => {
    assert.equal(kindFromPath('/repo/vin_ocr/configs/models/deepseek_ocr.yaml'), 'model-profile');
    assert.equal(kindFromPath('C:\\repo\\configs\\models\\x.yml'), 'model-profile');
    assert.equal(kindFromPath('/repo/configs/liquidai_finetune.yaml'), 'trainer-config');
    assert.equal(kindFromPath('/repo/.github/workflows/ci.yaml'), undefined);
  });

  it('lets user patterns add conventions', () => {
    assert.equal(kindFromPath('/repo/experiments/run1.yaml', { patterns: { 'experiments/*.yaml': 'training-config' } }), 'training-config');
    assert.equal(kindFromPath('/repo/experiments/run1.yaml', { patterns: { 'experiments/*.yaml': 'not-a-kind' } }), undefined);
  });

  it('recognises content by its top-level keys', () => {
    assert.equal(kindFromData({ model_id: 'x' }), 'model-profile');
    assert.equal(kindFromData({ trainer: 'deepseek' }), 'trainer-config');
    assert.equal(kindFromData({ model: { type: 'baseline' } }), 'training-config');
    assert.equal(kindFromData({ name: 'CI', on: 'push' }), undefined);
    assert.equal(kindFromData(['a']), undefined);
  });

  it('honours a yaml-language-server $schema first line', () => {
    assert.deepEqual(kindFromModeline('# yaml-language-server: $schema=../schemas/trainer-config.schema.json\nfoo: 1\n'), {
      kind: 'trainer-config',
      source: 'modeline',
    });
    assert.deepEqual(kindFromModeline('# yaml-language-server: $schema=https://json.schemastore.org/github-workflow.json\n'), {
      kind: undefined,
      foreign: true,
    });
    assert.equal(kindFromModeline('# just a comment\n'), undefined);
  });

  it('leaves a file pointing at another schema alone, even when its keys look like ours', () => {
    const text = '# yaml-language-server: $schema=https://example.com/other.json\nmodel_id: 5\n';
    assert.equal(detectKind(text, 'configs/models/x.yaml'), undefined);
    assert.deepEqual(validateText(text, { file: 'configs/models/x.yaml' }), []);
  });

  it('matches globs with **, * and {a,b}', () => {
    assert.ok(globMatches('**/configs/models/*.{yaml,yml}', '/a/b/configs/models/m.yml'));
    assert.ok(globMatches('*_finetune.yaml', '/a/deep/x_finetune.yaml'));
    assert.ok(!globMatches('configs/models/*.yaml', '/a/configs/models/sub/m.yaml'));
  });

  it('reports a file that is no config only when asked (the CLI does)', () => {
    assert.deepEqual(validateText('name: CI\n', { file: 'ci.yaml' }), []);
    const problems = validateText('name: CI\n', { file: 'ci.yaml', reportUnrecognised: true });
    assert.equal(problems[0]!.code, 'not-a-config');
    assert.equal(problems[0]!.severity, 'info');
  });
});
