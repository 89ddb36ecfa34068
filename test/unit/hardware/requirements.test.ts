import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  checkModel,
  cloudInstances,
  findCloudInstance,
  findModel,
  installCommands,
  requirements,
  withTrainerPaths,
} from '../../../src/core/hardware/requirements';

describe('requirements data (data/requirements.json)', () => {
  it('holds the four models of the contract, in report order', () => {
    assert.deepEqual(
      requirements.map((model) => model.id),
      ['deepseek-ai/DeepSeek-OCR', 'LiquidAI/LFM2.5-VL-1.6B', 'PaddleOCR', 'baseline'],
    );
  });

  it('finds a model by id or by the alias a training config uses, ignoring case', () => {
    assert.equal(findModel('DEEPSEEK-AI/deepseek-ocr')?.id, 'deepseek-ai/DeepSeek-OCR');
    assert.equal(findModel('lfm2-vl')?.id, 'LiquidAI/LFM2.5-VL-1.6B');
    assert.equal(findModel(' paddleocr ')?.id, 'PaddleOCR');
    assert.equal(findModel('baseline')?.id, 'baseline');
    assert.equal(findModel('gpt-4o'), undefined);
  });

  it("gives the seed's install commands per platform, with the corrections", () => {
    const deepseekEnvironment =
      'pip install torch==2.13.0 transformers==4.46.3 tokenizers==0.20.3 peft==0.21.2 accelerate==1.15.0 ' +
      'einops==0.8.2 addict==2.4.0 easydict==1.14';
    assert.deepEqual(installCommands('deepseek-ocr', 'cuda'), [deepseekEnvironment, 'pip install flash-attn==2.7.3 --no-build-isolation']);
    // ★ Its flash_attn import is guarded: MPS and the CPU need no stub, one line installs the measured environment.
    assert.deepEqual(installCommands('deepseek-ocr', 'mps'), [deepseekEnvironment]);
    assert.deepEqual(installCommands('deepseek-ocr', 'cpu'), [deepseekEnvironment]);
    assert.match(installCommands('lfm2-vl', 'cpu')[0]!, /transformers>=4\.57\.0/, '★ 4.40 is too old for LFM2.5-VL');
    assert.match(installCommands('PaddleOCR', 'cuda')[0]!, /paddlepaddle-gpu==3\.0\.0 -i https:\/\/www\.paddlepaddle\.org\.cn\//);
    assert.deepEqual(installCommands('PaddleOCR', 'mps'), ['pip install paddlepaddle==3.0.0 paddleocr==3.3.3']);
    assert.deepEqual(installCommands('unknown', 'cpu'), []);
  });

  it("pins DeepSeek-OCR's install lines to exactly the == pins of its environment", () => {
    const environment = findModel('deepseek-ocr')?.environment;
    assert.ok(environment, 'the DeepSeek-OCR row has an environment');
    assert.equal(environment.transformers, '>=4.46.3,<4.48');
    const exactPins = environment.pip.filter((requirement) => requirement.includes('=='));
    for (const platform of ['cuda', 'mps', 'cpu'] as const) {
      const words = installCommands('deepseek-ocr', platform)[0]!.split(' ');
      assert.deepEqual(words.slice(0, 2), ['pip', 'install'], platform);
      assert.deepEqual(words.slice(2).sort(), [...exactPins].sort(), platform);
    }
    assert.ok(!exactPins.some((requirement) => /^(pytest|jsonschema)\b/.test(requirement)), 'test-only packages stay in "tests"');
    for (const model of requirements.filter((entry) => entry.family !== 'deepseek-ocr')) assert.equal(model.environment, undefined);
  });

  it("keeps trainer/requirements-deepseek.txt (the cloud task's extra file) equal to DeepSeek-OCR's environment", () => {
    const lines = readFileSync('trainer/requirements-deepseek.txt', 'utf8')
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean);
    assert.deepEqual(lines, findModel('deepseek-ocr')?.environment?.pip);
    assert.ok(!lines.some((line) => /stub|torchvision/.test(line)));
  });

  it('checks the shape of a model row, its environment included', () => {
    const row = structuredClone(requirements[0]!) as unknown as Record<string, unknown>;
    assert.equal(checkModel(row, 0).environment?.pip[0], 'torch==2.13.0');
    const withEnvironment = (environment: unknown) => ({ ...row, environment });
    assert.equal(checkModel({ ...row, environment: undefined }, 0).environment, undefined, 'the environment is optional');
    assert.throws(() => checkModel(withEnvironment(['torch==2.13.0']), 3), /models\[3\]\.environment: not an object/);
    assert.throws(() => checkModel(withEnvironment({ transformers: '4.46.3', pip: ['torch'] }), 0), /"transformers" must be a pip version/);
    assert.throws(() => checkModel(withEnvironment({ transformers: '==4.46.3', pip: [] }), 0), /"pip" must be a list/);
    assert.throws(
      () => checkModel(withEnvironment({ transformers: '==4.46.3', pip: ['torch==2.13.0', '-e ./stubs/flash_attn_stub'] }), 0),
      /"pip" holds "-e \.\/stubs\/flash_attn_stub"/,
    );
    assert.throws(
      () => checkModel(withEnvironment({ transformers: '==4.46.3', pip: ['torch'], tests: 'pytest' }), 0),
      /"tests" must be a list/,
    );
    const fine = checkModel(withEnvironment({ transformers: '>=4.46.3,<4.48', pip: ['torch', 'numpy>=1.26,<3'], tests: ['pytest>=8'] }), 0);
    assert.deepEqual(fine.environment?.tests, ['pytest>=8']);
  });

  it('hands out copies, so a caller cannot change the shared table', () => {
    installCommands('baseline', 'cpu').push('rm -rf /');
    assert.ok(!installCommands('baseline', 'cpu').includes('rm -rf /'));
  });

  it('keeps DeepSeek-OCR and LFM2.5-VL in separate environment families', () => {
    assert.notEqual(findModel('deepseek-ocr')?.family, findModel('lfm2-vl')?.family);
  });

  it('★ gives PaddleOCR no MPS platform and DeepSeek-OCR no sdpa', () => {
    assert.equal(findModel('PaddleOCR')?.fit.mps, undefined);
    assert.ok(!findModel('deepseek-ocr')?.attention.includes('sdpa'));
  });

  it("lists the seed's cloud instances with hypothetical facts", () => {
    assert.deepEqual(
      cloudInstances.map((instance) => instance.id),
      ['g4dn.xlarge', 'g5.xlarge', 'p3.2xlarge', 'n1-standard-8+t4', 'a2-highgpu-1g', 'Standard_NC6s_v3', 'Standard_NV6ads_A10_v5'],
    );
    for (const instance of cloudInstances) {
      assert.equal(instance.facts.gpus[0]?.vendor, 'NVIDIA', instance.id);
      assert.match(instance.facts.gpus[0]?.compute_capability ?? '', /^\d\.\d$/, instance.id);
    }
    assert.equal(findCloudInstance('G5.XLARGE')?.facts.gpus[0]?.name, 'NVIDIA A10G');
  });
});

describe('fixes that name the bundled trainer', () => {
  it("turn the seed's relative stub path into an absolute one, quoted when it has spaces", () => {
    assert.equal(
      withTrainerPaths('pip install -e ./stubs/flash_attn_stub', '/opt/ext/trainer'),
      'pip install -e /opt/ext/trainer/stubs/flash_attn_stub',
    );
    assert.equal(
      withTrainerPaths('pip install -e ./stubs/flash_attn_stub', '/My Ext/trainer'),
      "pip install -e '/My Ext/trainer/stubs/flash_attn_stub'",
    );
  });

  it('leave other commands alone', () => {
    assert.equal(
      withTrainerPaths('pip install torch==2.13.0 transformers==4.46.3', '/opt/ext/trainer'),
      'pip install torch==2.13.0 transformers==4.46.3',
    );
  });
});
