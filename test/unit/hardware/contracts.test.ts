import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import doctorReportSchema from '../../../schemas/doctor-report.schema.json';
import { parseFacts } from '../../../src/core/hardware/facts-file';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { formatMarkdownReport } from '../../../src/core/hardware/report';
import { cloudInstances } from '../../../src/core/hardware/requirements';
import type { HardwareFacts } from '../../../src/core/hardware/types';
import { A100, GIB, T4, appleSiliconMac, cpuPython, cudaPython, linuxMachine, macPython } from '../../fixtures/hardware/machines';

const FACTS_DIR = path.resolve('test/fixtures/hardware/facts');
const goodFactsFiles = ['t4-cuda-torch', 'a100-flash-attn', 'macbook-m2-16gb', 'cpu-laptop-no-probe'];

const machines: Array<[string, HardwareFacts]> = [
  ...goodFactsFiles.map((name): [string, HardwareFacts] => [
    name,
    JSON.parse(readFileSync(path.join(FACTS_DIR, `${name}.json`), 'utf8')) as HardwareFacts,
  ]),
  ...cloudInstances.map((instance): [string, HardwareFacts] => [instance.id, instance.facts]),
  ['cpu-only torch on a T4', linuxMachine([T4], cpuPython())],
  ['mixed GPUs', linuxMachine([T4, A100], cudaPython({ flash_attn: 'stub' }))],
  ['8 GiB Mac without torch', appleSiliconMac(8 * GIB, macPython({ torch: null, mps_available: false }))],
];

describe('hardware contracts', () => {
  describe('facts files (schemas/hardware-facts.schema.json)', () => {
    it('accepts every recorded and hypothetical machine', () => {
      for (const [name, facts] of machines) {
        const parsed = parseFacts(JSON.stringify(facts));
        assert.ok(parsed.ok, `${name}: ${parsed.ok ? '' : parsed.error}`);
      }
    });

    it('accepts a UTF-8 byte-order mark, as Windows editors write one', () => {
      const text = readFileSync(path.join(FACTS_DIR, 't4-cuda-torch.json'), 'utf8');
      assert.equal(parseFacts(`\uFEFF${text}`).ok, true);
    });

    const bad: Array<[string, string, RegExp]> = [
      ['truncated JSON', readFileSync(path.join(FACTS_DIR, 'malformed.json'), 'utf8'), /^not valid JSON/],
      ['an array', '[]', /the facts must be object/],
      [
        'missing keys',
        '{"os": "linux"}',
        /missing "arch"; missing "cpu"; missing "ram_bytes"; missing "gpus"; missing "nvidia_driver" \(and 2 more\)/,
      ],
      ['a half python part', JSON.stringify({ ...machines[3]![1], python: { path: '/p' } }), /missing "version" in python/],
      [
        'a bad compute capability',
        JSON.stringify({ ...machines[0]![1], gpus: [{ ...T4, compute_capability: 'sm_75' }] }),
        /gpus\[0\]\.compute_capability must match pattern/,
      ],
      [
        'a string for memory',
        JSON.stringify({ ...machines[0]![1], gpus: [{ ...T4, vram_mib: '15360 MiB' }] }),
        /gpus\[0\]\.vram_mib must be number or null/,
      ],
    ];
    for (const [what, text, message] of bad) {
      it(`rejects ${what} with a readable message`, () => {
        const parsed = parseFacts(text);
        assert.equal(parsed.ok, false);
        assert.match(parsed.ok ? '' : parsed.error, message);
      });
    }

    it('keeps the reading of a fixture file identical to the file', () => {
      for (const name of readdirSync(FACTS_DIR).filter((file) => goodFactsFiles.includes(path.basename(file, '.json')))) {
        const text = readFileSync(path.join(FACTS_DIR, name), 'utf8');
        const parsed = parseFacts(text);
        assert.deepEqual(parsed.ok && parsed.facts, JSON.parse(text));
      }
    });
  });

  describe('doctor reports (schemas/doctor-report.schema.json)', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(doctorReportSchema);
    it('holds for every machine', () => {
      for (const [name, facts] of machines) {
        const report = evaluatePolicy(facts);
        assert.ok(validate(report), `${name}: ${JSON.stringify(validate.errors)}`);
      }
    });
  });

  describe('the Markdown hardware report', () => {
    it('shows the machine, the interpreter, the choices with reasons, every model and the facts', () => {
      const facts = linuxMachine([T4], cpuPython());
      const markdown = formatMarkdownReport(facts, evaluatePolicy(facts), {
        path: '/home/dev/.venv/bin/python',
        source: 'workspace-venv',
        reason: "the workspace's .venv",
      });
      assert.match(markdown, /^## VIN OCR hardware report$/m);
      assert.match(markdown, /^\| GPU \| Tesla T4 · 16\.1 GB VRAM \(15360 MiB\) · compute capability 7\.5 \|$/m);
      assert.match(markdown, /^\| Interpreter \| \/home\/dev\/\.venv\/bin\/python — workspace-venv: the workspace's \.venv \|$/m);
      assert.match(markdown, /^\| Platform \| `cpu` \| The trainer's torch 2\.13\.0\+cpu is a CPU-only build/m);
      assert.match(markdown, /^\| deepseek-ai\/DeepSeek-OCR \| minimum \| cpu \| eager \|/m);
      assert.match(markdown, /^- \*\*torch-cpu-only\*\*: /m);
      assert.ok(markdown.includes(JSON.stringify(facts, null, 2)), 'the facts travel with the report');
    });

    it('keeps table cells intact when text holds pipes or newlines', () => {
      const facts = { ...linuxMachine([], null), cpu: { brand: 'Weird | CPU\nname', cores: 2 } };
      const markdown = formatMarkdownReport(facts, evaluatePolicy(facts));
      assert.match(markdown, /^\| CPU \| Weird \\\| CPU name \(2 cores\) \|$/m);
    });
  });
});
