import * as assert from 'node:assert/strict';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { hardwareTreeNodes } from '../../../src/features/hardware/tree-model';
import { A10G_WITH_FLASH_ATTN, CPU_ONLY_NO_PROBE } from './machines';

describe('Hardware tree content', () => {
  it('says it is probing before the first snapshot', () => {
    assert.deepEqual(
      hardwareTreeNodes(undefined, true).map((node) => node.label),
      ['Probing hardware…'],
    );
  });

  it('lists the decision, the interpreter, the machine and every model with its fit', () => {
    const facts = A10G_WITH_FLASH_ATTN;
    const report = evaluatePolicy(facts);
    const nodes = hardwareTreeNodes(
      { facts, report, interpreter: { path: '/opt/venv/bin/python', source: 'setting', reason: 'set in vinOcr.pythonPath' } },
      false,
    );
    const labels = nodes.map((node) => node.label);
    assert.deepEqual(labels.slice(0, 4), ['Platform: cuda', 'Attention: flash_attention_2', 'Precision: bf16', 'Python: 3.11.9']);
    const machine = nodes.find((node) => node.id === 'machine');
    assert.ok(machine?.children?.some((node) => node.label === 'NVIDIA A10G' && node.description === '24 GB · compute 8.6'));
    assert.ok(machine?.children?.some((node) => node.label === 'NVIDIA driver 535.104.05' && node.description === 'CUDA 12.2'));
    const models = nodes.find((node) => node.id === 'models')?.children ?? [];
    assert.deepEqual(models.map((node) => node.label).sort(), Object.keys(report.models).sort());
    const deepseek = models.find((node) => node.label === 'deepseek-ai/DeepSeek-OCR');
    assert.equal(deepseek?.description, 'optimal · cuda · flash_attention_2');
    assert.equal(deepseek?.tone, 'ok');
  });

  it('warns when no interpreter was found and marks models that do not fit', () => {
    const facts = { ...CPU_ONLY_NO_PROBE, ram_bytes: 4_000_000_000 };
    const nodes = hardwareTreeNodes({ facts, report: evaluatePolicy(facts) }, false);
    const python = nodes.find((node) => node.id === 'python');
    assert.equal(python?.label, 'Python: none found');
    assert.equal(python?.tone, 'warning');
    const deepseek = nodes.find((node) => node.id === 'models')?.children?.find((node) => node.label === 'deepseek-ai/DeepSeek-OCR');
    assert.equal(deepseek?.tone, 'error');
    assert.equal(deepseek?.icon, 'error');
  });

  it('keeps node ids stable across probes so VS Code keeps the expansion state', () => {
    const snapshot = { facts: A10G_WITH_FLASH_ATTN, report: evaluatePolicy(A10G_WITH_FLASH_ATTN) };
    const ids = (nodes: ReturnType<typeof hardwareTreeNodes>): string[] => nodes.flatMap((node) => [node.id, ...ids(node.children ?? [])]);
    assert.deepEqual(ids(hardwareTreeNodes(snapshot, false)), ids(hardwareTreeNodes(snapshot, true)));
    assert.equal(new Set(ids(hardwareTreeNodes(snapshot, false))).size, ids(hardwareTreeNodes(snapshot, false)).length, 'ids are unique');
  });
});
