import * as assert from 'node:assert/strict';
import {
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
    assert.deepEqual(installCommands('deepseek-ocr', 'cuda'), [
      'pip install torch==2.6.0 transformers==4.46.3 tokenizers==0.20.3 einops addict easydict',
      'pip install flash-attn==2.7.3 --no-build-isolation',
    ]);
    assert.match(installCommands('deepseek-ocr', 'mps')[1]!, /flash_attn_stub/);
    assert.match(installCommands('lfm2-vl', 'cpu')[0]!, /transformers>=4\.57\.0/, '★ 4.40 is too old for LFM2.5-VL');
    assert.match(installCommands('PaddleOCR', 'cuda')[0]!, /paddlepaddle-gpu==3\.0\.0 -i https:\/\/www\.paddlepaddle\.org\.cn\//);
    assert.deepEqual(installCommands('PaddleOCR', 'mps'), ['pip install paddlepaddle==3.0.0 paddleocr==3.3.3']);
    assert.deepEqual(installCommands('unknown', 'cpu'), []);
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
      withTrainerPaths('pip install torch==2.6.0 transformers==4.46.3', '/opt/ext/trainer'),
      'pip install torch==2.6.0 transformers==4.46.3',
    );
  });
});
