import * as assert from 'node:assert/strict';
import { cloudInstallCommands } from '../../../src/core/cloud/plan';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { cloudInstances } from '../../../src/core/hardware/requirements';
import { buildPanelModel, panelModelFor, panelTargets } from '../../../src/features/hardware/panel-model';
import { THIS_MACHINE } from '../../../media/src/protocol';
import { A10G_WITH_FLASH_ATTN, CPU_ONLY_NO_PROBE, MAC_M2_16GB } from './machines';

const context = { trainerDir: '/home/me/.vscode/extensions/vin-ocr/trainer' };

describe('hardware panel content', () => {
  it('offers this machine first, then every cloud instance of the seed', () => {
    const targets = panelTargets();
    assert.equal(targets[0]?.id, THIS_MACHINE);
    assert.deepEqual(
      targets.slice(1).map((target) => target.id),
      cloudInstances.map((instance) => instance.id),
    );
    assert.ok(targets.some((target) => target.id === 'g4dn.xlarge' && target.label.includes('T4')));
  });

  it('shows the machine, the interpreter and why, and the decisions with their reasons', () => {
    const interpreter = { path: '/opt/venv/bin/python', source: 'setting' as const, reason: 'set in vinOcr.pythonPath' };
    const snapshot = {
      facts: A10G_WITH_FLASH_ATTN,
      report: evaluatePolicy(A10G_WITH_FLASH_ATTN),
      interpreter,
      collectedAt: '2026-11-28T18:00:00.000Z',
    };
    const model = panelModelFor(THIS_MACHINE, snapshot, context);
    assert.ok(model);
    assert.equal(model.hypothetical, false);
    assert.deepEqual(model.machine.gpus, [{ vendor: 'NVIDIA', name: 'NVIDIA A10G', vramGb: 24, computeCapability: '8.6' }]);
    assert.equal(model.python.interpreter?.reason, 'set in vinOcr.pythonPath');
    assert.equal(model.python.probe?.flashAttn, '2.7.3');
    assert.equal(model.platform.value, 'cuda');
    assert.ok(model.platform.reason.length > 0, 'the platform comes with its reason');
    assert.equal(model.precision?.value, 'bf16');
    assert.equal(model.collectedAt, '2026-11-28T18:00:00.000Z');
  });

  it('gives each model the exact install commands for its platform, and DeepSeek-OCR no stub off CUDA', () => {
    const snapshot = { facts: MAC_M2_16GB, report: evaluatePolicy(MAC_M2_16GB) };
    const model = panelModelFor(THIS_MACHINE, snapshot, context);
    const deepseek = model?.models.find((entry) => entry.id === 'deepseek-ai/DeepSeek-OCR');
    assert.equal(deepseek?.platform, 'mps');
    assert.deepEqual(deepseek?.installCommands, [
      'pip install torch==2.13.0 transformers==4.46.3 tokenizers==0.20.3 peft==0.21.2 accelerate==1.15.0 ' +
        'einops==0.8.2 addict==2.4.0 easydict==1.14',
    ]);
    const paddle = model?.models.find((entry) => entry.id === 'PaddleOCR');
    assert.equal(paddle?.platform, 'cpu', 'PaddlePaddle has no MPS backend');
    assert.ok(paddle?.installCommands.some((command) => command.includes('paddlepaddle==3.0.0')));
  });

  it("gives PaddleOCR's CUDA install its own wheel index (paddlepaddle-gpu 3.x is not on PyPI), on this machine and in the cloud", () => {
    const index = /^pip install paddlepaddle-gpu==3\.0\.0 -i https:\/\/www\.paddlepaddle\.org\.cn\/packages\/stable\/cu\d+\/$/;
    const here = panelModelFor(THIS_MACHINE, { facts: A10G_WITH_FLASH_ATTN, report: evaluatePolicy(A10G_WITH_FLASH_ATTN) }, context);
    const paddle = here?.models.find((entry) => entry.id === 'PaddleOCR');
    assert.equal(paddle?.platform, 'cuda');
    assert.match(paddle!.installCommands[0]!, index);
    const cloud = panelModelFor('g4dn.xlarge', undefined, context)?.models.find((entry) => entry.id === 'PaddleOCR');
    assert.match(cloud!.installCommands[0]!, index);
    assert.ok(
      cloudInstallCommands('paddleocr').some((command) => index.test(command)),
      'the cloud task’s setup keeps it too',
    );
  });

  it('quotes a trainer path with spaces so the copied command still works', () => {
    const snapshot = { facts: MAC_M2_16GB, report: evaluatePolicy(MAC_M2_16GB) };
    const model = panelModelFor(THIS_MACHINE, snapshot, { trainerDir: "/Users/Jo O'Neil/ext/trainer" });
    const commands = model?.troubleshooting.find((entry) => entry.title === '"flash_attn not available"')?.commands ?? [];
    assert.ok(commands.includes(`pip install -e '/Users/Jo O'\\''Neil/ext/trainer/stubs/flash_attn_stub'`), commands.join('\n'));
  });

  it('says in troubleshooting what was measured about flash_attn, and marks it relevant nowhere', () => {
    const macWithoutStub = { ...MAC_M2_16GB, python: { ...MAC_M2_16GB.python!, flash_attn: null } };
    for (const facts of [MAC_M2_16GB, macWithoutStub, A10G_WITH_FLASH_ATTN]) {
      const model = buildPanelModel(THIS_MACHINE, facts, evaluatePolicy(facts), undefined, context);
      const entry = model.troubleshooting.find((item) => item.title === '"flash_attn not available"');
      assert.ok(entry);
      assert.equal(entry.relevant, false, 'DeepSeek-OCR loads without flash_attn; only unguarded imports elsewhere need the stub');
      assert.match(entry.body, /imports flash_attn only where flash-attn 2 is available, and loads without it/);
      assert.match(entry.body, /On MPS and the CPU only eager attention runs \(its code refuses sdpa; flash_attention_2 fails/);
      assert.match(entry.body, /with or without the stub/);
      assert.match(entry.body, /stub matters only where other code imports flash_attn unguarded/);
      assert.doesNotMatch(entry.body, /need it even where it cannot run/);
      assert.deepEqual(entry.commands, [
        'pip install flash-attn==2.7.3 --no-build-isolation',
        `pip install -e ${context.trainerDir}/stubs/flash_attn_stub`,
      ]);
    }
  });

  it('suggests cloud machines for a model that does not fit, and flags no troubleshooting on a Linux CPU machine', () => {
    const facts = { ...CPU_ONLY_NO_PROBE, ram_bytes: 4_000_000_000 };
    const model = buildPanelModel(THIS_MACHINE, facts, evaluatePolicy(facts), undefined, context);
    const deepseek = model.models.find((entry) => entry.id === 'deepseek-ai/DeepSeek-OCR');
    assert.equal(deepseek?.fit, 'insufficient');
    assert.ok(deepseek && deepseek.cloudSuggestions.length > 0, 'at least one cloud instance fits DeepSeek-OCR');
    const a100 = deepseek?.cloudSuggestions.find((suggestion) => suggestion.text.includes('A100'));
    assert.equal(a100?.instanceId, 'a2-highgpu-1g', 'the suggestion names the instance "Train on cloud…" launches');
    const relevant = model.troubleshooting.filter((item) => item.relevant).map((item) => item.title);
    assert.deepEqual(relevant, [], 'Linux, no MPS, and DeepSeek-OCR loads without flash_attn: nothing to flag');
  });

  it('evaluates a cloud instance as a hypothetical machine with no interpreter of ours', () => {
    const snapshot = {
      facts: MAC_M2_16GB,
      report: evaluatePolicy(MAC_M2_16GB),
      interpreter: { path: '/x/python', source: 'path' as const, reason: 'found on PATH' },
    };
    const model = panelModelFor('g4dn.xlarge', snapshot, context);
    assert.equal(model?.hypothetical, true);
    assert.equal(model?.targetId, 'g4dn.xlarge');
    assert.equal(model?.platform.value, 'cuda');
    assert.equal(model?.python.interpreter, null, 'our interpreter says nothing about a rented machine');
    assert.equal(
      model?.models.find((entry) => entry.id === 'deepseek-ai/DeepSeek-OCR')?.attention,
      'eager',
      'a T4 has no flash-attn 2 and DeepSeek-OCR no sdpa',
    );
  });

  it('refuses an unknown target with a clear message', () => {
    assert.throws(() => panelModelFor('no-such-machine', undefined, context), /Unknown machine "no-such-machine"/);
    assert.equal(panelModelFor(THIS_MACHINE, undefined, context), undefined, 'nothing to show before the first probe');
  });
});
