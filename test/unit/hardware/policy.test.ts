import * as assert from 'node:assert/strict';
import { withDeepseekEnvironment } from '../../../src/core/hardware/family-environment-report';
import { DEEPSEEK_OFF_CUDA, attentionFor, evaluatePolicy } from '../../../src/core/hardware/policy';
import { cloudInstances } from '../../../src/core/hardware/requirements';
import type { DoctorReport, HardwareFacts } from '../../../src/core/hardware/types';
import { WARNING_CODES } from '../../../src/core/hardware/warnings';
import {
  A100,
  A10G,
  GIB,
  RTX3050_4GB,
  T4,
  V100,
  appleSiliconMac,
  cpuPython,
  cudaPython,
  linuxMachine,
  macPython,
} from '../../fixtures/hardware/machines';

const DEEPSEEK = 'deepseek-ai/DeepSeek-OCR';
const LFM = 'LiquidAI/LFM2.5-VL-1.6B';
const PADDLE = 'PaddleOCR';
const BASELINE = 'baseline';

const codes = (report: DoctorReport): string[] => report.warnings.map((warning) => warning.code);
const seenCodes = new Set<string>();
/** Evaluates and remembers the warning codes, so the last test can prove every code is reachable. */
function evaluate(facts: HardwareFacts): DoctorReport {
  const report = evaluatePolicy(facts);
  for (const code of codes(report)) seenCodes.add(code);
  return report;
}

describe('hardware policy', () => {
  describe('platform', () => {
    it('is cuda when the trainer torch sees CUDA', () => {
      const report = evaluate(linuxMachine([A10G], cudaPython()));
      assert.equal(report.platform, 'cuda');
      assert.match(report.explanations!.platform, /torch 2\.6\.0\+cu124 sees CUDA on NVIDIA A10G/);
    });

    it('is mps when the trainer torch sees MPS', () => {
      assert.equal(evaluate(appleSiliconMac(16 * GIB, macPython())).platform, 'mps');
    });

    it('is cpu on a machine with neither, with a warning that CPU training is slow', () => {
      const report = evaluate(linuxMachine([], cpuPython(), 16 * GIB));
      assert.equal(report.platform, 'cpu');
      assert.equal(report.attention, 'eager');
      assert.equal(report.precision, 'fp32');
      // 17.2 GB of RAM holds DeepSeek-OCR on the CPU; its code loads there without any flash_attn package.
      assert.deepEqual(codes(report), ['cpu-slow']);
    });

    it('falls back to cpu with the install fix when torch is a CPU-only build on an NVIDIA machine', () => {
      const report = evaluate(linuxMachine([T4], cpuPython()));
      assert.equal(report.platform, 'cpu');
      assert.equal(report.attention, 'eager');
      const warning = report.warnings.find((entry) => entry.code === 'torch-cpu-only');
      assert.ok(warning, `expected torch-cpu-only in ${codes(report).join(', ')}`);
      assert.match(warning.message, /Tesla T4 goes unused/);
      // The driver supports CUDA 12.2, so the newest wheel it can run is cu121.
      assert.equal(
        warning.fix,
        '/home/dev/.venv/bin/python -m pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cu121',
      );
      assert.equal(report.models[DEEPSEEK]!.platform, 'cpu');
    });

    it('warns when a CUDA build of torch cannot reach the GPU', () => {
      const report = evaluate(
        linuxMachine([A10G], cudaPython({ cuda_available: false, torch_cuda: '12.8', cuda_error: 'RuntimeError: driver too old' })),
      );
      assert.equal(report.platform, 'cpu');
      const warning = report.warnings.find((entry) => entry.code === 'cuda-unavailable');
      assert.ok(warning);
      assert.match(warning.message, /CUDA 12\.8 .*driver too old.*supports CUDA 12\.2/);
    });

    it('warns when torch on an Apple Silicon Mac does not see MPS', () => {
      const report = evaluate(appleSiliconMac(16 * GIB, macPython({ mps_available: false })));
      assert.equal(report.platform, 'cpu');
      assert.ok(codes(report).includes('mps-unavailable'));
    });

    describe('without a probe (inferred from the hardware)', () => {
      it('infers cuda from an NVIDIA GPU with a driver', () => {
        const report = evaluate(linuxMachine([A100], null));
        assert.equal(report.platform, 'cuda');
        assert.equal(report.attention, 'sdpa', 'flash-attn cannot be verified without the probe');
        assert.match(report.explanations!.attention, /install it to use flash_attention_2/);
        assert.equal(report.precision, 'bf16');
        assert.deepEqual(codes(report), ['no-probe']);
      });

      it('infers mps on macOS arm64', () => {
        const report = evaluate(appleSiliconMac(16 * GIB, null));
        assert.equal(report.platform, 'mps');
        assert.equal(report.attention, 'sdpa');
        assert.match(report.explanations!.platform, /Inferred from the hardware/);
      });

      it('infers cpu for an NVIDIA GPU without a driver, and says so', () => {
        const facts = { ...linuxMachine([T4], null), nvidia_driver: null, cuda_driver_version: null };
        const report = evaluate(facts);
        assert.equal(report.platform, 'cpu');
        assert.deepEqual(codes(report), ['no-probe', 'nvidia-driver-missing', 'cpu-slow']);
      });

      it('infers from the hardware when torch is missing, and gives the install command', () => {
        const report = evaluate(linuxMachine([A10G], cudaPython({ torch: null, torch_cuda: null, cuda_available: false })));
        assert.equal(report.platform, 'cuda');
        assert.match(report.explanations!.platform, /torch is not installed in the trainer's interpreter yet/);
        const warning = report.warnings.find((entry) => entry.code === 'torch-missing');
        assert.equal(warning?.fix, '/home/dev/.venv/bin/python -m pip install torch --index-url https://download.pytorch.org/whl/cu121');
      });

      it('reports a torch that fails to import with its error', () => {
        const report = evaluate(
          linuxMachine(
            [],
            cpuPython({ torch: null, torch_cuda: null, torch_error: 'OSError: libtorch_cpu.so: cannot open shared object file' }),
          ),
        );
        const warning = report.warnings.find((entry) => entry.code === 'torch-broken');
        assert.match(warning?.message ?? '', /libtorch_cpu\.so/);
        assert.match(warning?.fix ?? '', /--force-reinstall torch --index-url https:\/\/download\.pytorch\.org\/whl\/cpu$/);
      });
    });
  });

  describe('attention', () => {
    it('uses flash_attention_2 with real flash-attn on compute capability 8.0', () => {
      const report = evaluate(linuxMachine([A100], cudaPython({ flash_attn: '2.7.3' })));
      assert.equal(report.attention, 'flash_attention_2');
      assert.equal(report.models[DEEPSEEK]!.attention, 'flash_attention_2');
      assert.equal(report.models[LFM]!.attention, 'flash_attention_2');
      assert.deepEqual(report.warnings, []);
    });

    it('★ refuses flash_attention_2 on compute capability 7.5 (T4) even with flash-attn installed', () => {
      const report = evaluate(linuxMachine([T4], cudaPython({ flash_attn: '2.7.3' })));
      assert.equal(report.attention, 'sdpa');
      assert.match(report.explanations!.attention, /compute capability 7\.5; flash-attn 2 needs 8\.0/);
      assert.deepEqual(codes(report), ['flash-attn-unsupported-gpu']);
    });

    it('★ refuses flash_attention_2 on a V100 (7.0)', () => {
      assert.equal(evaluate(linuxMachine([V100], cudaPython({ flash_attn: '2.7.3' }))).attention, 'sdpa');
    });

    it('treats the flash_attn stub as absent and suggests the real package on an Ampere GPU', () => {
      const report = evaluate(linuxMachine([A10G], cudaPython({ flash_attn: 'stub' })));
      assert.equal(report.attention, 'sdpa');
      assert.equal(report.models[DEEPSEEK]!.attention, 'eager');
      assert.deepEqual(codes(report), ['flash-attn-stub-on-cuda']);
      assert.match(report.warnings[0]!.fix, /pip install flash-attn==2\.7\.3 --no-build-isolation$/);
    });

    it('suggests installing flash-attn on an Ampere GPU that lacks it', () => {
      const report = evaluate(linuxMachine([A10G], cudaPython()));
      assert.equal(report.attention, 'sdpa');
      assert.deepEqual(codes(report), ['flash-attn-missing']);
    });

    it('★ never gives DeepSeek-OCR sdpa: eager where flash_attention_2 is not possible', () => {
      const cuda = evaluate(linuxMachine([T4], cudaPython()));
      assert.equal(cuda.models[DEEPSEEK]!.attention, 'eager');
      assert.equal(cuda.models[LFM]!.attention, 'sdpa');
      assert.ok(cuda.models[DEEPSEEK]!.reasons.some((reason) => /implements no sdpa/.test(reason)));
      const mac = evaluate(appleSiliconMac(32 * GIB, macPython()));
      assert.equal(mac.models[DEEPSEEK]!.attention, 'eager');
      assert.equal(mac.models[LFM]!.attention, 'sdpa');
    });

    it('uses eager with torch older than 2.0, and warns', () => {
      const report = evaluate(linuxMachine([A10G], cudaPython({ torch: '1.13.1+cu117' })));
      assert.equal(report.attention, 'eager');
      assert.ok(codes(report).includes('torch-too-old'));
    });

    it('keeps flash_attention_2 and bf16 off when the compute capability is unknown', () => {
      const gpu = { ...A100, compute_capability: null };
      const report = evaluate(linuxMachine([gpu], cudaPython({ flash_attn: '2.7.3' })));
      assert.equal(report.attention, 'sdpa');
      assert.equal(report.precision, 'fp16');
      assert.ok(codes(report).includes('compute-capability-unknown'));
    });

    it('answers attentionFor by id or alias, on the platform the model runs on', () => {
      const facts = linuxMachine([A100], cudaPython({ flash_attn: '2.7.3' }));
      assert.equal(attentionFor(DEEPSEEK, facts).attention, 'flash_attention_2');
      assert.equal(attentionFor('deepseek-ocr', facts).attention, 'flash_attention_2');
      assert.equal(attentionFor('paddleocr', facts).attention, 'eager');
      assert.match(attentionFor('paddleocr', facts).reason, /does not apply/);
      assert.match(attentionFor('no-such-model', facts).reason, /Unknown model "no-such-model"/);
      // A 4 GB GPU cannot hold DeepSeek-OCR, so it runs on the CPU, where attention is eager.
      const small = linuxMachine([RTX3050_4GB], cudaPython({ flash_attn: '2.7.3' }), 32 * GIB);
      assert.equal(attentionFor(DEEPSEEK, small).attention, 'eager');
      assert.equal(attentionFor(LFM, small).attention, 'flash_attention_2');
    });
  });

  describe('precision', () => {
    it('★ uses bf16 from compute capability 8.0, fp16 below, fp32 on the CPU', () => {
      assert.equal(evaluate(linuxMachine([A100], cudaPython())).precision, 'bf16');
      assert.equal(evaluate(linuxMachine([T4], cudaPython())).precision, 'fp16');
      assert.equal(evaluate(linuxMachine([], cpuPython())).precision, 'fp32');
      assert.equal(evaluate(appleSiliconMac(16 * GIB, macPython())).precision, 'fp16');
    });
  });

  describe('fit and memory (decimal GB)', () => {
    it("counts a T4's 15,360 MiB as its nominal 16 GB: DeepSeek-OCR optimal", () => {
      const verdict = evaluate(linuxMachine([T4], cudaPython())).models[DEEPSEEK]!;
      assert.equal(verdict.fit, 'optimal');
      assert.equal(verdict.platform, 'cuda');
      assert.match(verdict.reasons[0]!, /16\.1 GB VRAM on Tesla T4 \(optimal ≥ 16 GB, minimum ≥ 8 GB\) → optimal/);
    });

    it('counts a 16 GiB Mac as 16 GB: DeepSeek-OCR minimum on MPS', () => {
      const verdict = evaluate(appleSiliconMac(16 * GIB, macPython())).models[DEEPSEEK]!;
      assert.equal(verdict.fit, 'minimum');
      assert.equal(verdict.platform, 'mps');
    });

    it('does not round 7.99 GB up to 8', () => {
      const gpu = { vendor: 'NVIDIA', name: 'NVIDIA GeForce RTX 2070', vram_mib: 7620, compute_capability: '7.5' };
      const report = evaluate(linuxMachine([gpu], cudaPython(), 7_990_000_000));
      assert.equal(report.models[LFM]!.fit, 'minimum', '7.99 GB of VRAM is above 4 GB but below the 8 GB optimum');
      assert.equal(report.models[DEEPSEEK]!.fit, 'insufficient', 'below 8 GB VRAM and below 16 GB RAM');
      assert.match(report.models[DEEPSEEK]!.reasons[0]!, /7\.99 GB VRAM/);
      assert.equal(report.models[PADDLE]!.fit, 'optimal');
      const cpuOnly = evaluate(linuxMachine([], cpuPython(), 7_990_000_000));
      assert.equal(cpuOnly.models[LFM]!.fit, 'insufficient');
      assert.equal(cpuOnly.models[PADDLE]!.fit, 'insufficient');
      assert.equal(cpuOnly.models[BASELINE]!.fit, 'optimal');
    });

    it('lets the best platform win: a 4 GB GPU runs DeepSeek-OCR on a 32 GB CPU instead', () => {
      const verdict = evaluate(linuxMachine([RTX3050_4GB], cudaPython(), 32 * GIB)).models[DEEPSEEK]!;
      assert.equal(verdict.fit, 'minimum');
      assert.equal(verdict.platform, 'cpu');
      assert.match(verdict.reasons.join('\n'), /CUDA: 4\.29 GB VRAM .* → insufficient/);
    });

    it('prefers cuda over cpu when both fit equally', () => {
      const verdict = evaluate(linuxMachine([RTX3050_4GB], cudaPython(), 32 * GIB)).models[LFM]!;
      assert.equal(verdict.fit, 'minimum');
      assert.equal(verdict.platform, 'cuda');
    });

    it('★ runs PaddleOCR on the CPU on Apple Silicon (no MPS backend)', () => {
      const verdict = evaluate(appleSiliconMac(16 * GIB, macPython())).models[PADDLE]!;
      assert.equal(verdict.platform, 'cpu');
      assert.equal(verdict.fit, 'minimum');
      assert.ok(verdict.reasons.some((reason) => /no MPS backend/.test(reason)));
    });

    it('judges a multi-GPU box by its largest card and warns only when the cards differ', () => {
      const same = evaluate(linuxMachine([A10G, A10G, A10G, A10G], cudaPython({ flash_attn: '2.7.3' })));
      assert.deepEqual(codes(same), []);
      const mixed = evaluate(linuxMachine([T4, A100], cudaPython({ flash_attn: '2.7.3' })));
      assert.equal(mixed.attention, 'flash_attention_2');
      assert.deepEqual(codes(mixed), ['mixed-gpus']);
      assert.match(mixed.warnings[0]!.message, /judges by NVIDIA A100-SXM4-40GB/);
    });

    it("uses torch's own device list when nvidia-smi gave none", () => {
      const python = cudaPython({ cuda_devices: [{ name: 'NVIDIA L4', compute_capability: '8.9', vram_mib: 22478 }] });
      const report = evaluate({ ...linuxMachine([], python), nvidia_driver: null });
      assert.equal(report.platform, 'cuda');
      assert.equal(report.precision, 'bf16');
      assert.equal(report.models[DEEPSEEK]!.fit, 'optimal');
    });
  });

  describe('the fit table, at and just below every threshold', () => {
    // [model, platform, GB, expected fit]; other platforms are starved so only the one named decides.
    const table: Array<[string, 'cuda' | 'mps' | 'cpu', number, string]> = [
      [DEEPSEEK, 'cuda', 16, 'optimal'],
      [DEEPSEEK, 'cuda', 15.99, 'minimum'],
      [DEEPSEEK, 'cuda', 8, 'minimum'],
      [DEEPSEEK, 'cuda', 7.99, 'insufficient'],
      [DEEPSEEK, 'mps', 16, 'minimum'],
      [DEEPSEEK, 'mps', 15.99, 'insufficient'],
      [DEEPSEEK, 'cpu', 16, 'minimum'],
      [DEEPSEEK, 'cpu', 15.99, 'insufficient'],
      [LFM, 'cuda', 8, 'optimal'],
      [LFM, 'cuda', 7.99, 'minimum'],
      [LFM, 'cuda', 4, 'minimum'],
      [LFM, 'cuda', 3.99, 'insufficient'],
      [LFM, 'mps', 8, 'minimum'],
      [LFM, 'mps', 7.99, 'insufficient'],
      [LFM, 'cpu', 8, 'minimum'],
      [LFM, 'cpu', 7.99, 'insufficient'],
      [PADDLE, 'cuda', 4, 'optimal'],
      [PADDLE, 'cuda', 3.99, 'insufficient'],
      [PADDLE, 'cpu', 8, 'minimum'],
      [PADDLE, 'cpu', 7.99, 'insufficient'],
    ];
    const STARVED_RAM = 1e9;
    function machineWith(platform: 'cuda' | 'mps' | 'cpu', gb: number): HardwareFacts {
      if (platform === 'cuda') {
        const gpu = { vendor: 'NVIDIA', name: 'Test GPU', vram_mib: (gb * 1e9) / 1_048_576, compute_capability: '8.6' };
        return linuxMachine([gpu], cudaPython(), STARVED_RAM);
      }
      return platform === 'mps' ? appleSiliconMac(gb * 1e9, macPython()) : linuxMachine([], cpuPython(), gb * 1e9);
    }
    for (const [model, platform, gb, fit] of table) {
      it(`${model} on ${platform} with ${gb} GB → ${fit}`, () => {
        const verdict = evaluatePolicy(machineWith(platform, gb)).models[model]!;
        assert.equal(verdict.fit, fit, verdict.reasons.join(' '));
        if (fit !== 'insufficient') assert.equal(verdict.platform, platform);
      });
    }
  });

  describe('insufficient machines', () => {
    const laptop = linuxMachine([], cpuPython(), 8 * GIB);

    it('lists the cloud instances that would fit, optimal first', () => {
      const verdict = evaluate(laptop).models[DEEPSEEK]!;
      assert.equal(verdict.fit, 'insufficient');
      const cloud = verdict.cloud ?? [];
      assert.ok(
        cloud.some((entry) => entry.id === 'g4dn.xlarge' && entry.fit === 'optimal'),
        'a T4 holds DeepSeek-OCR',
      );
      assert.ok(cloud.some((entry) => entry.id === 'a2-highgpu-1g' && entry.fit === 'optimal'));
      const ranks = cloud.map((entry) => (entry.fit === 'optimal' ? 2 : 1));
      assert.deepEqual(
        ranks,
        [...ranks].sort((a, b) => b - a),
      );
      assert.match(verdict.reasons.at(-1)!, /^Would fit on: g4dn\.xlarge/);
    });

    it('judges each cloud instance through the same policy', () => {
      const verdict = evaluate(laptop).models[DEEPSEEK]!;
      for (const instance of cloudInstances) {
        const fit = evaluatePolicy(instance.facts).models[DEEPSEEK]!.fit;
        const suggested = verdict.cloud?.find((entry) => entry.id === instance.id);
        assert.equal(suggested?.fit ?? 'insufficient', fit, instance.id);
      }
    });

    it('gives no cloud list to a model that fits', () => {
      assert.equal(evaluate(laptop).models[BASELINE]!.cloud, undefined);
    });
  });

  describe('cloud instances as hypothetical machines', () => {
    it('puts every seed instance on CUDA', () => {
      for (const instance of cloudInstances) assert.equal(evaluatePolicy(instance.facts).platform, 'cuda', instance.id);
    });

    it("★ reads Azure's NV6ads_A10_v5 as a sixth of an A10: too small for DeepSeek-OCR's GPU path", () => {
      const nv6 = cloudInstances.find((instance) => instance.id === 'Standard_NV6ads_A10_v5')!;
      const verdict = evaluatePolicy(nv6.facts).models[DEEPSEEK]!;
      assert.equal(verdict.platform, 'cpu');
      assert.equal(verdict.fit, 'minimum');
    });
  });

  describe('purity and contract', () => {
    it('does not change its input and answers the same twice', () => {
      const facts = linuxMachine([T4, A100], cudaPython({ flash_attn: '2.7.3' }));
      const before = structuredClone(facts);
      const first = evaluatePolicy(facts);
      assert.deepEqual(facts, before);
      assert.deepEqual(evaluatePolicy(facts), first);
    });

    it('judges the four models with a reason for each decision', () => {
      const report = evaluate(linuxMachine([T4], cudaPython()));
      assert.deepEqual(Object.keys(report.models), [DEEPSEEK, LFM, PADDLE, BASELINE]);
      for (const verdict of Object.values(report.models)) assert.ok(verdict.reasons.length >= 2);
      for (const explanation of Object.values(report.explanations!)) assert.ok(explanation.length > 10);
    });

    it('asks for no flash_attn stub where DeepSeek-OCR runs on MPS or the CPU, and says what it needs there instead', () => {
      for (const facts of [appleSiliconMac(32 * GIB, macPython({ flash_attn: null })), linuxMachine([], cpuPython(), 32 * GIB)]) {
        const report = evaluate(facts);
        assert.ok(!report.warnings.some((entry) => /stub/.test(`${entry.message} ${entry.fix}`)), codes(report).join(', '));
        const verdict = report.models[DEEPSEEK]!;
        assert.notEqual(verdict.platform, 'cuda');
        assert.equal(verdict.attention, 'eager');
        assert.ok(verdict.reasons.includes(DEEPSEEK_OFF_CUDA), verdict.reasons.join('\n'));
      }
      assert.match(DEEPSEEK_OFF_CUDA, /only eager attention runs/);
      assert.match(DEEPSEEK_OFF_CUDA, /device shim for the \.cuda\(\) calls/);
    });

    it('keeps the off-CUDA line away from DeepSeek-OCR on CUDA and from the other models', () => {
      const report = evaluate(linuxMachine([A10G], cudaPython({ flash_attn: '2.7.3' })));
      assert.equal(report.models[DEEPSEEK]!.platform, 'cuda');
      for (const verdict of Object.values(report.models)) assert.ok(!verdict.reasons.includes(DEEPSEEK_OFF_CUDA));
      const mac = evaluate(appleSiliconMac(32 * GIB, macPython()));
      assert.ok(!mac.models[LFM]!.reasons.includes(DEEPSEEK_OFF_CUDA));
    });

    it('leaves the trainer’s transformers alone and warns when DeepSeek-OCR’s own environment cannot import its code', () => {
      const newer = evaluate(linuxMachine([], cpuPython({ transformers: '5.24.0' }), 32 * GIB));
      assert.ok(!codes(newer).includes('transformers-too-new-for-deepseek'), 'DeepSeek-OCR runs never use this interpreter');
      const broken = withDeepseekEnvironment(newer, { python: '/e/bin/python', transformers: '4.57.1', usable: false });
      const warned = broken.warnings.find((entry) => entry.code === 'transformers-too-new-for-deepseek');
      assert.ok(warned, codes(broken).join(', '));
      for (const code of codes(broken)) seenCodes.add(code);
      assert.match(
        warned.message,
        /DeepSeek-OCR's environment at \/e\/bin\/python holds transformers 4\.57\.1: DeepSeek-OCR's code needs >=4\.46\.3,<4\.48/,
      );
      assert.match(warned.fix, /scripts\/setup-deepseek\.sh/);
      const good = withDeepseekEnvironment(newer, { python: '/e/bin/python', transformers: '4.46.3', usable: true });
      assert.ok(!codes(good).includes('transformers-too-new-for-deepseek'));
    });

    it('reaches every warning code in these scenarios (stable codes are all tested)', () => {
      assert.deepEqual(
        [...WARNING_CODES].filter((code) => !seenCodes.has(code)),
        [],
      );
    });
  });
});
