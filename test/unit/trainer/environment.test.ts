import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chooseTorchBuild,
  pipSourcesFromConfigList,
  pipSourcesFromEnv,
  planEnvironment,
  resolveStepArgs,
  runEnvironmentPlan,
  SetupError,
  torchRequirement,
  type EnvironmentPlan,
} from '../../../src/core/trainer/environment';

const machine = { os: 'linux' as const, arch: 'x64', gpus: [], nvidia_driver: null, cuda_driver_version: null };
const t4 = {
  ...machine,
  gpus: [{ vendor: 'NVIDIA', name: 'Tesla T4', vram_mib: 15360 }],
  nvidia_driver: '570.86',
  cuda_driver_version: '12.8',
};

describe('chooseTorchBuild', () => {
  it('picks the CUDA wheels the driver supports', () => {
    assert.deepEqual(
      [
        chooseTorchBuild(t4).indexUrl,
        chooseTorchBuild({ ...t4, cuda_driver_version: '12.6' }).indexUrl,
        chooseTorchBuild({ ...t4, cuda_driver_version: '13.0' }).indexUrl,
      ],
      ['https://download.pytorch.org/whl/cu128', 'https://download.pytorch.org/whl/cu126', 'https://download.pytorch.org/whl/cu130'],
    );
  });

  it('falls back to the CPU build for an old driver or no NVIDIA GPU, and uses PyPI on macOS', () => {
    const old = chooseTorchBuild({ ...t4, cuda_driver_version: '11.4' });
    assert.equal(old.build, 'cpu');
    assert.match(old.reason, /update the driver/);
    assert.equal(chooseTorchBuild(machine).indexUrl, 'https://download.pytorch.org/whl/cpu');
    assert.deepEqual(chooseTorchBuild({ ...machine, os: 'darwin', arch: 'arm64' }), {
      build: 'mps',
      reason: 'Apple Silicon: the standard macOS wheels include the MPS backend.',
    });
  });
});

describe('planEnvironment', () => {
  const requirements = '# runtime\ntorch==2.13.0  # pinned\nnumpy>=1.26\nPillow>=10.1\n';

  it('creates the venv only when missing and installs the pinned torch, holding the index of the build for later', () => {
    const plan = planEnvironment({
      venvDir: '/s/venv',
      basePython: 'python3',
      requirements,
      requirementsFile: '/ext/trainer/requirements.txt',
      os: 'linux',
      torch: chooseTorchBuild(t4),
      venvExists: false,
    });
    assert.equal(plan.python, '/s/venv/bin/python');
    assert.deepEqual(plan.steps[0]!.args, ['-m', 'venv', '/s/venv']);
    assert.deepEqual(plan.steps[2]!.args, ['-m', 'pip', 'install', 'torch==2.13.0']);
    assert.equal(plan.steps[2]!.torchIndexUrl, 'https://download.pytorch.org/whl/cu128');
    assert.equal(
      planEnvironment({
        venvDir: '/v',
        basePython: 'python3',
        requirements,
        requirementsFile: 'r.txt',
        os: 'darwin',
        torch: chooseTorchBuild({ ...machine, os: 'darwin', arch: 'arm64' }),
        venvExists: true,
      }).steps[1]!.torchIndexUrl,
      undefined,
    );
    assert.deepEqual(plan.steps[3]!.args, ['-m', 'pip', 'install', '-r', '/ext/trainer/requirements.txt']);
    const again = planEnvironment({
      venvDir: 'C:\\v',
      basePython: 'py',
      requirements,
      requirementsFile: 'r.txt',
      os: 'win32',
      torch: chooseTorchBuild(machine),
      venvExists: true,
    });
    assert.equal(again.steps[0]!.title, 'Update pip');
    assert.equal(again.python, join('C:\\v', 'Scripts', 'python.exe'));
    assert.notEqual(again.fingerprint, plan.fingerprint);
    assert.equal(torchRequirement('numpy\n'), 'torch');
  });

  it('installs the ONNX requirements beside requirements.txt after torch, so "Export Model…" works in the environment it makes', () => {
    const input = {
      venvDir: '/s/venv',
      basePython: 'python3',
      requirements,
      requirementsFile: '/ext/trainer/requirements.txt',
      os: 'linux' as const,
      torch: chooseTorchBuild(machine),
      venvExists: true,
    };
    const plan = planEnvironment(input);
    assert.deepEqual(
      plan.steps.map((step) => step.title),
      ['Update pip', 'Install torch (cpu)', 'Install the trainer requirements', 'Install ONNX export and ONNX Runtime'],
    );
    const onnx = plan.steps.at(-1)!;
    assert.deepEqual(onnx.args, ['-m', 'pip', 'install', '-r', join('/ext/trainer', 'requirements-onnx.txt')]);
    assert.equal(onnx.torchIndexUrl, undefined, 'only the torch step takes the torch index');
    // The file the plan names ships with the trainer, lists what export needs and never replaces torch.
    const shipped = readFileSync(join(__dirname, '..', '..', '..', 'trainer', 'requirements-onnx.txt'), 'utf8');
    const packages = shipped
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean);
    for (const name of ['onnxruntime', 'onnxscript', 'onnx'])
      assert.ok(
        packages.some((line) => line.split(/[<>=!~ ]/)[0] === name),
        name,
      );
    assert.ok(!packages.some((line) => /^torch\b/.test(line)), 'torch stays the build for this machine');
    // The installed extension carries the file (the VSIX is an allow-list).
    const allowed = readFileSync(join(__dirname, '..', '..', '..', '.vscodeignore'), 'utf8').split(/\r?\n/);
    assert.ok(allowed.includes('!trainer/requirements*.txt'), '.vscodeignore ships trainer/requirements*.txt');
    // A change to the ONNX requirements makes the stamp stale.
    assert.notEqual(planEnvironment({ ...input, onnxRequirements: 'onnxruntime>=1.18\n' }).fingerprint, plan.fingerprint);
  });
});

describe("pip's own package sources", () => {
  it('reads index, extra index, find-links and no-index from `pip config list`, from files and PIP_* variables', () => {
    const listed = [
      "global.cert='/etc/ssl/certs/ca-certificates.crt'",
      "global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'",
      "install.index_url='https://mirror.example/simple'",
      ":env:.find-links='/opt/wheels'",
      ":env:.default-timeout='180'",
      "download.index-url='https://elsewhere/simple'",
      "global.no-index='false'",
    ].join('\n');
    assert.deepEqual(pipSourcesFromConfigList(listed), [
      'extra-index-url=file:///opt/pypi/simple file:///opt/pypi-more/simple',
      'index-url=https://mirror.example/simple',
      'find-links=/opt/wheels',
    ]);
    assert.deepEqual(pipSourcesFromConfigList("global.cert='/x'\n"), []);
    assert.deepEqual(pipSourcesFromEnv({ PIP_INDEX_URL: 'https://corp/simple', PIP_DEFAULT_TIMEOUT: '60', PIP_FIND_LINKS: ' ' }), [
      'index-url=https://corp/simple',
    ]);
  });

  it('installs torch from the sources pip is configured with, and adds the build index only when it names none', async function () {
    if (process.platform === 'win32') this.skip(); // the fake pip is a shell script
    const dir = mkdtempSync(join(tmpdir(), 'vin-ocr-pip-'));
    /** A "python" whose `-m pip config list` prints `listed`. */
    const fakePython = (name: string, listed: string) => {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\ncat <<'EOF'\n${listed}\nEOF\n`, { mode: 0o755 });
      return {
        title: 'Install torch (cpu)',
        command: path,
        args: ['-m', 'pip', 'install', 'torch==2.13.0'],
        torchIndexUrl: 'https://download.pytorch.org/whl/cpu',
      };
    };
    const saved = { ...process.env };
    try {
      for (const name of Object.keys(process.env))
        if (/^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX)$/.test(name)) delete process.env[name];
      const lines: string[] = [];
      const configured = fakePython('configured', "global.index-url='https://corp/simple'");
      assert.deepEqual(await resolveStepArgs(configured, (line) => lines.push(line)), configured.args);
      assert.match(lines.join('\n'), /index-url=https:\/\/corp\/simple/);
      const bare = fakePython('bare', "global.cert='/x'");
      assert.deepEqual(await resolveStepArgs(bare, () => {}), [...bare.args, '--index-url', 'https://download.pytorch.org/whl/cpu']);
      process.env.PIP_INDEX_URL = 'https://from-env/simple';
      assert.deepEqual(
        await resolveStepArgs({ ...bare, command: join(dir, 'missing') }, () => {}),
        bare.args,
        'PIP_INDEX_URL counts even when pip cannot be asked',
      );
      const other = { title: 'Update pip', command: 'python', args: ['-m', 'pip'] };
      assert.equal(await resolveStepArgs(other, () => {}), other.args);
    } finally {
      process.env = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runEnvironmentPlan', () => {
  function fakePlan(venvDir: string, script: string): EnvironmentPlan {
    return {
      venvDir,
      python: join(venvDir, 'bin/python'),
      torch: chooseTorchBuild(machine),
      fingerprint: 'abc',
      steps: [{ title: 'Step', command: process.execPath, args: ['-e', script] }],
    };
  }

  it('streams output, writes a stamp and skips everything the second time', async () => {
    const venv = mkdtempSync(join(tmpdir(), 'vin-ocr-env-'));
    const lines: string[] = [];
    const first = await runEnvironmentPlan(fakePlan(venv, "console.log('Collecting torch'); console.error('warn')"), (entry) =>
      lines.push(entry),
    );
    assert.equal(first.upToDate, false);
    assert.ok(lines.includes('Collecting torch') && lines.includes('warn'));
    assert.equal(readFileSync(join(venv, '.vin-ocr-environment'), 'utf8').trim(), 'abc');
    const second = await runEnvironmentPlan(fakePlan(venv, 'process.exit(9)'), () => {});
    assert.equal(second.upToDate, true);
    rmSync(venv, { recursive: true, force: true });
  });

  it('stops at a failing step with the command in the error and writes no stamp', async () => {
    const venv = mkdtempSync(join(tmpdir(), 'vin-ocr-env-'));
    await assert.rejects(
      runEnvironmentPlan(fakePlan(venv, 'process.exit(4)'), () => {}),
      (error: unknown) => error instanceof SetupError && error.exitCode === 4,
    );
    assert.equal(existsSync(join(venv, '.vin-ocr-environment')), false);
    rmSync(venv, { recursive: true, force: true });
  });
});
