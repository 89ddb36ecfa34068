import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseTorchBuild, planEnvironment, runEnvironmentPlan, SetupError, torchRequirement, type EnvironmentPlan } from '../../../src/core/trainer/environment';

const machine = { os: 'linux' as const, arch: 'x64', gpus: [], nvidia_driver: null, cuda_driver_version: null };
const t4 = { ...machine, gpus: [{ vendor: 'NVIDIA', name: 'Tesla T4', vram_mib: 15360 }], nvidia_driver: '570.86', cuda_driver_version: '12.8' };

describe('chooseTorchBuild', () => {
  it('picks the CUDA wheels the driver supports', () => {
    assert.deepEqual(
      [chooseTorchBuild(t4).indexUrl, chooseTorchBuild({ ...t4, cuda_driver_version: '12.6' }).indexUrl, chooseTorchBuild({ ...t4, cuda_driver_version: '13.0' }).indexUrl],
      ['https://download.pytorch.org/whl/cu128', 'https://download.pytorch.org/whl/cu126', 'https://download.pytorch.org/whl/cu130'],
    );
  });

  it('falls back to the CPU build for an old driver or no NVIDIA GPU, and uses PyPI on macOS', () => {
    const old = chooseTorchBuild({ ...t4, cuda_driver_version: '11.4' });
    assert.equal(old.build, 'cpu');
    assert.match(old.reason, /update the driver/);
    assert.equal(chooseTorchBuild(machine).indexUrl, 'https://download.pytorch.org/whl/cpu');
    assert.deepEqual(chooseTorchBuild({ ...machine, os: 'darwin', arch: 'arm64' }), { build: 'mps', reason: 'Apple Silicon: the standard macOS wheels include the MPS backend.' });
  });
});

describe('planEnvironment', () => {
  const requirements = '# runtime\ntorch==2.13.0  # pinned\nnumpy>=1.26\nPillow>=10.1\n';

  it('creates the venv only when missing and installs the pinned torch from the chosen index', () => {
    const plan = planEnvironment({ venvDir: '/s/venv', basePython: 'python3', requirements, requirementsFile: '/ext/trainer/requirements.txt', os: 'linux', torch: chooseTorchBuild(t4), venvExists: false });
    assert.equal(plan.python, '/s/venv/bin/python');
    assert.deepEqual(plan.steps[0]!.args, ['-m', 'venv', '/s/venv']);
    assert.deepEqual(plan.steps[2]!.args, ['-m', 'pip', 'install', 'torch==2.13.0', '--index-url', 'https://download.pytorch.org/whl/cu128']);
    assert.deepEqual(plan.steps[3]!.args, ['-m', 'pip', 'install', '-r', '/ext/trainer/requirements.txt']);
    const again = planEnvironment({ venvDir: 'C:\\v', basePython: 'py', requirements, requirementsFile: 'r.txt', os: 'win32', torch: chooseTorchBuild(machine), venvExists: true });
    assert.equal(again.steps[0]!.title, 'Update pip');
    assert.equal(again.python, join('C:\\v', 'Scripts', 'python.exe'));
    assert.notEqual(again.fingerprint, plan.fingerprint);
    assert.equal(torchRequirement('numpy\n'), 'torch');
  });
});

describe('runEnvironmentPlan', () => {
  function fakePlan(venvDir: string, script: string): EnvironmentPlan {
    return { venvDir, python: join(venvDir, 'bin/python'), torch: chooseTorchBuild(machine), fingerprint: 'abc', steps: [{ title: 'Step', command: process.execPath, args: ['-e', script] }] };
  }

  it('streams output, writes a stamp and skips everything the second time', async () => {
    const venv = mkdtempSync(join(tmpdir(), 'vin-ocr-env-'));
    const lines: string[] = [];
    const first = await runEnvironmentPlan(fakePlan(venv, "console.log('Collecting torch'); console.error('warn')"), (entry) => lines.push(entry));
    assert.equal(first.upToDate, false);
    assert.ok(lines.includes('Collecting torch') && lines.includes('warn'));
    assert.equal(readFileSync(join(venv, '.vin-ocr-environment'), 'utf8').trim(), 'abc');
    const second = await runEnvironmentPlan(fakePlan(venv, 'process.exit(9)'), () => {});
    assert.equal(second.upToDate, true);
  });

  it('stops at a failing step with the command in the error and writes no stamp', async () => {
    const venv = mkdtempSync(join(tmpdir(), 'vin-ocr-env-'));
    await assert.rejects(runEnvironmentPlan(fakePlan(venv, 'process.exit(4)'), () => {}), (error: unknown) => error instanceof SetupError && error.exitCode === 4);
    assert.equal(existsSync(join(venv, '.vin-ocr-environment')), false);
  });
});
