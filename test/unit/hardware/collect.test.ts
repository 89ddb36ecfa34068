import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createFactsCollector, type FactsCollectorOptions } from '../../../src/core/hardware/collect';
import { parseCudaVersion, parseGpuQuery } from '../../../src/core/hardware/nvidia-smi';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { parseProbeOutput } from '../../../src/core/hardware/probe';
import { gpusFromControllers, type SystemFacts } from '../../../src/core/hardware/system-info';

const FIXTURES = path.resolve('test/fixtures/hardware');
const smi = (name: string): string => path.join(FIXTURES, 'nvidia-smi', `${name}.sh`);
const probe = (name: string): string => path.join(FIXTURES, 'probe', `${name}.sh`);
const TRAINER_DIR = path.resolve('trainer');
const VENV_PYTHON = path.resolve('.venv/bin/python');

/** Recorded from a g4dn.xlarge via systeminformation's cpu() and mem(). */
const recordedSystem: SystemFacts = {
  os: 'linux',
  arch: 'x64',
  cpu: { brand: 'Intel Xeon(R) Platinum 8259CL', cores: 4 },
  ram_bytes: 16_522_067_968,
  gpus: [],
};

function collector(options: Partial<FactsCollectorOptions> & { calls?: { system: number } } = {}) {
  const calls = options.calls ?? { system: 0 };
  return createFactsCollector({
    trainerDir: TRAINER_DIR,
    nvidiaSmi: smi('t4'),
    systemInfo: async () => {
      calls.system += 1;
      return recordedSystem;
    },
    ...options,
  });
}

describe('hardware facts collection', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };
  before(() => process.on('unhandledRejection', onRejection));
  after(() => {
    process.off('unhandledRejection', onRejection);
  });
  afterEach(() => assert.deepEqual(rejections, [], 'no rejection may escape the collector'));

  describe('nvidia-smi', () => {
    it('reads a T4: name, MiB, driver, compute capability and the CUDA version from the table', async () => {
      const { facts, sources } = await collector().collect(probe('t4-cuda'));
      assert.deepEqual(facts.gpus, [{ vendor: 'NVIDIA', name: 'Tesla T4', vram_mib: 15360, compute_capability: '7.5' }]);
      assert.equal(facts.nvidia_driver, '535.183.01');
      assert.equal(facts.cuda_driver_version, '12.2');
      assert.equal(sources['nvidia-smi']!.ok, true);
    });

    it('reads an A100', async () => {
      const { facts } = await collector({ nvidiaSmi: smi('a100') }).collect(undefined);
      assert.deepEqual(facts.gpus, [{ vendor: 'NVIDIA', name: 'NVIDIA A100-SXM4-40GB', vram_mib: 40960, compute_capability: '8.0' }]);
      assert.equal(facts.cuda_driver_version, '12.4');
    });

    it('reads an H200 as recorded on a real machine, and the policy picks cuda, sdpa (no flash-attn) and bf16', async () => {
      const { facts, sources } = await collector({ nvidiaSmi: smi('h200') }).collect(probe('h200-cuda'));
      assert.deepEqual(facts.gpus, [{ vendor: 'NVIDIA', name: 'NVIDIA H200', vram_mib: 143771, compute_capability: '9.0' }]);
      assert.equal(facts.nvidia_driver, '580.159.04');
      assert.equal(facts.cuda_driver_version, '13.0');
      assert.equal(facts.python?.torch, '2.11.0+cu130');
      assert.equal(sources['python-probe']!.ok, true);
      const report = evaluatePolicy(facts);
      assert.deepEqual([report.platform, report.attention, report.precision], ['cuda', 'sdpa', 'bf16']);
      assert.equal(report.models['deepseek-ai/DeepSeek-OCR']!.attention, 'eager', 'DeepSeek-OCR has no sdpa');
      for (const verdict of Object.values(report.models)) assert.equal(verdict.fit, 'optimal');
    });

    it('keeps every GPU of a multi-GPU box, in order', async () => {
      const { facts } = await collector({ nvidiaSmi: smi('multi-gpu') }).collect(undefined);
      assert.deepEqual(
        facts.gpus.map((gpu) => [gpu.name, gpu.vram_mib, gpu.compute_capability]),
        [
          ['NVIDIA GeForce RTX 4090', 24564, '8.9'],
          ['NVIDIA GeForce RTX 2080 Ti', 11264, '7.5'],
        ],
      );
    });

    it('asks again without compute_cap on a driver older than 510, and takes the capability from torch', async () => {
      const { facts, sources } = await collector({ nvidiaSmi: smi('old-driver') }).collect(probe('k80-cuda'));
      assert.equal(sources['nvidia-smi']!.ok, true);
      assert.deepEqual(facts.gpus, [{ vendor: 'NVIDIA', name: 'Tesla K80', vram_mib: 11441, compute_capability: '3.7' }]);
      assert.equal(facts.nvidia_driver, '470.223.02');
      assert.equal(facts.cuda_driver_version, '11.4');
    });

    it('leaves the capability unknown on an old driver without a probe', async () => {
      const { facts } = await collector({ nvidiaSmi: smi('old-driver') }).collect(undefined);
      assert.equal(facts.gpus[0]!.compute_capability, null);
    });

    it('treats "No devices were found" as a machine without GPUs', async () => {
      const { facts, sources } = await collector({ nvidiaSmi: smi('no-devices') }).collect(undefined);
      assert.deepEqual(facts.gpus, []);
      assert.equal(facts.nvidia_driver, null);
      assert.equal(sources['nvidia-smi']!.ok, true);
    });

    const failures: Array<[string, string, RegExp]> = [
      ['a driver that does not answer', smi('driver-broken'), /exit code 9.*couldn't communicate with the NVIDIA driver/],
      ['garbage output', smi('garbage'), /unrecognised nvidia-smi line/],
      ['a missing nvidia-smi', path.join(FIXTURES, 'nvidia-smi', 'not-there'), /not found/],
    ];
    for (const [what, command, error] of failures) {
      it(`degrades to unknown on ${what}`, async () => {
        const { facts, sources } = await collector({ nvidiaSmi: command }).collect(undefined);
        assert.deepEqual(facts.gpus, []);
        assert.equal(facts.nvidia_driver, null);
        assert.equal(sources['nvidia-smi']!.ok, false);
        assert.match(sources['nvidia-smi']!.error ?? '', error);
      });
    }

    it('gives up on a hanging nvidia-smi at its timeout', async () => {
      const started = performance.now();
      const { facts, sources } = await collector({ nvidiaSmi: smi('hang'), timeouts: { 'nvidia-smi': 300 } }).collect(undefined);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2_000, `took ${Math.round(elapsed)} ms`);
      assert.deepEqual(facts.gpus, []);
      assert.match(sources['nvidia-smi']!.error ?? '', /timed out after 300 ms/);
    });

    it('parses recorded query lines and rejects what is not one', () => {
      assert.deepEqual(parseGpuQuery('NVIDIA L4, 23034, 550.54.15, 8.9\n', true).gpus[0], {
        vendor: 'NVIDIA',
        name: 'NVIDIA L4',
        vram_mib: 23034,
        compute_capability: '8.9',
      });
      assert.equal(parseGpuQuery('NVIDIA A100-SXM4-40GB MIG 1g.5gb, [N/A], 535.104.05, 8.0', true).gpus[0]!.vram_mib, null);
      assert.throws(() => parseGpuQuery('Tesla T4, lots, 535.183.01, 7.5', true), /unrecognised nvidia-smi line/);
      assert.throws(() => parseGpuQuery('Tesla T4, 15360, drv, 7.5', true), /unrecognised driver version/);
      assert.throws(() => parseGpuQuery('', true), /no GPUs/);
      assert.equal(parseCudaVersion('| NVIDIA-SMI 535.183.01   Driver Version: 535.183.01   CUDA Version: 12.2 |'), '12.2');
      assert.equal(parseCudaVersion('garbage'), null);
    });
  });

  describe('the probe', () => {
    it('reports what the interpreter sees', async () => {
      const { facts, sources } = await collector().collect(probe('t4-cuda'));
      assert.equal(facts.python?.torch, '2.6.0+cu124');
      assert.equal(facts.python?.cuda_available, true);
      assert.equal(facts.python?.flash_attn, null);
      assert.equal(sources['python-probe']!.ok, true);
    });

    it('reads the JSON line after noise on stdout', async () => {
      const { facts } = await collector().collect(probe('noisy'));
      assert.equal(facts.python?.version, '3.12.4');
    });

    const failures: Array<[string, string, RegExp]> = [
      ['garbage', probe('garbage'), /malformed JSON/],
      ['an interpreter without the trainer', probe('no-trainer'), /exit code 1.*bundled trainer was not found/],
      ['a missing interpreter', '/nonexistent/bin/python', /not found/],
    ];
    for (const [what, python, error] of failures) {
      it(`reports no python facts for ${what}`, async () => {
        const { facts, sources } = await collector().collect(python);
        assert.equal(facts.python, null);
        assert.match(sources['python-probe']!.error ?? '', error);
        assert.equal(facts.gpus[0]?.name, 'Tesla T4', 'the other sources still answer');
      });
    }

    it('gives up on a hanging probe at its timeout', async () => {
      const started = performance.now();
      const { facts, sources } = await collector({ timeouts: { 'python-probe': 300 } }).collect(probe('hang'));
      assert.ok(performance.now() - started < 2_000);
      assert.equal(facts.python, null);
      assert.match(sources['python-probe']!.error ?? '', /timed out/);
    });

    it('says so when no interpreter was found', async () => {
      const { sources } = await collector().collect(undefined);
      assert.deepEqual(sources['python-probe'], { ms: 0, ok: false, error: 'no Python interpreter was found' });
    });

    it('rejects probe output that misses the contract', () => {
      assert.throws(() => parseProbeOutput('{"torch": "2.6.0"}'), /lacks "path" and "version"/);
      assert.throws(() => parseProbeOutput(''), /printed no JSON/);
      const facts = parseProbeOutput(
        '{"path": "/p", "version": "3.11.9", "torch": 7, "cuda_available": "yes", "cuda_devices": [{"name": 1}]}',
      );
      assert.deepEqual(facts, {
        path: '/p',
        version: '3.11.9',
        torch: null,
        cuda_available: false,
        mps_available: false,
        flash_attn: null,
        torch_cuda: null,
      });
    });

    it('runs for real with the trainer environment and the CPU build of torch 2.13.0', async function () {
      if (!existsSync(VENV_PYTHON)) this.skip(); // created by `npm run test:python` (scripts/setup-python.sh)
      this.timeout(60_000);
      const { facts, sources } = await createFactsCollector({ trainerDir: TRAINER_DIR, systemInfo: async () => recordedSystem }).collect(
        VENV_PYTHON,
      );
      assert.equal(sources['python-probe']!.ok, true, sources['python-probe']!.error);
      assert.equal(facts.python?.torch, '2.13.0+cpu');
      assert.equal(facts.python?.cuda_available, false);
      assert.equal(facts.python?.torch_cuda, null);
      assert.match(facts.python?.version ?? '', /^3\.\d+\.\d+$/);
      assert.ok(facts.python?.path.includes('.venv'), facts.python?.path);
    });
  });

  describe('systeminformation', () => {
    it('falls back to what Node knows when systeminformation fails', async () => {
      const { facts, sources } = await collector({ systemInfo: () => Promise.reject(new Error('EACCES: /proc/cpuinfo')) }).collect(
        undefined,
      );
      assert.equal(sources.systeminformation!.ok, false);
      assert.match(sources.systeminformation!.error ?? '', /EACCES/);
      assert.ok(facts.ram_bytes > 0);
      assert.ok(facts.cpu.cores >= 1);
    });

    it('gives up on a hanging systeminformation at its timeout', async () => {
      const { sources } = await collector({ systemInfo: () => new Promise<never>(() => {}), timeouts: { systeminformation: 200 } }).collect(
        undefined,
      );
      assert.match(sources.systeminformation!.error ?? '', /timed out after 200 ms/);
    });

    it('reads this machine for real', async function () {
      this.timeout(20_000);
      const { facts, sources } = await createFactsCollector({ trainerDir: TRAINER_DIR, nvidiaSmi: smi('no-devices') }).collect(undefined);
      assert.equal(sources.systeminformation!.ok, true, sources.systeminformation!.error);
      assert.equal(facts.os, process.platform === 'darwin' || process.platform === 'win32' ? process.platform : 'linux');
      assert.ok(facts.cpu.brand.length > 0 && facts.cpu.cores >= 1 && facts.ram_bytes > 1e8);
    });

    it('keeps the Apple GPU systeminformation found on a Mac without nvidia-smi', async () => {
      const mac: SystemFacts = {
        os: 'darwin',
        arch: 'arm64',
        cpu: { brand: 'Apple M2 Pro', cores: 10 },
        ram_bytes: 17_179_869_184,
        gpus: [{ vendor: 'Apple', name: 'Apple M2 Pro', vram_mib: null }],
      };
      const { facts } = await collector({ systemInfo: async () => mac, nvidiaSmi: '/nonexistent/nvidia-smi' }).collect(undefined);
      assert.deepEqual(facts.gpus, mac.gpus);
      assert.equal(facts.os, 'darwin');
    });

    it("lets nvidia-smi's description of an NVIDIA card replace systeminformation's", async () => {
      const system: SystemFacts = {
        ...recordedSystem,
        gpus: [{ vendor: 'NVIDIA Corporation', name: 'TU104GL [Tesla T4]', vram_mib: 16384 }],
      };
      const { facts } = await collector({ systemInfo: async () => system }).collect(undefined);
      assert.deepEqual(
        facts.gpus.map((gpu) => gpu.name),
        ['Tesla T4'],
      );
    });

    it('finds Apple Silicon GPUs in graphics() output recorded on a MacBook Pro', () => {
      const controllers = [{ vendor: 'Apple', model: 'Apple M2 Pro', bus: 'Built-In', vram: null, vramDynamic: true, cores: 19 }];
      assert.deepEqual(gpusFromControllers(controllers), [{ vendor: 'Apple', name: 'Apple M2 Pro', vram_mib: null }]);
      const intelMac = [
        { vendor: 'Intel', model: 'Intel UHD Graphics 630', vram: 1536, vramDynamic: true },
        { vendor: 'AMD', model: 'AMD Radeon Pro 5500M', vram: 8192, vramDynamic: false },
      ];
      assert.deepEqual(
        gpusFromControllers(intelMac).map((gpu) => [gpu.vendor, gpu.vram_mib]),
        [
          ['Intel', null],
          ['AMD', 8192],
        ],
      );
    });
  });

  describe('cache', () => {
    it('answers a second call from memory, and re-collects with force', async () => {
      const calls = { system: 0 };
      const facts = collector({ calls });
      const first = await facts.collect(probe('t4-cuda'));
      const started = performance.now();
      const second = await facts.collect(probe('t4-cuda'));
      assert.ok(performance.now() - started < 10, 'cached facts come back within 10 ms');
      assert.deepEqual(second, first);
      assert.equal(calls.system, 1);
      await facts.collect(probe('t4-cuda'), { force: true });
      assert.equal(calls.system, 2);
    });

    it('re-runs only the probe for another interpreter', async () => {
      const calls = { system: 0 };
      const facts = collector({ calls });
      await facts.collect(probe('t4-cuda'));
      const other = await facts.collect(probe('noisy'));
      assert.equal(calls.system, 1);
      assert.equal(other.facts.python?.version, '3.12.4');
      assert.equal(other.facts.gpus[0]?.name, 'Tesla T4');
    });

    it('hands out copies, so a caller cannot change the cache', async () => {
      const facts = collector();
      const first = await facts.collect(undefined);
      first.facts.gpus.length = 0;
      assert.equal((await facts.collect(undefined)).facts.gpus.length, 1);
    });
  });
});
