import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCommands, pipInstallArgs, splitCommandLine } from '../../../src/core/hardware/requirements';
import { runEnvironmentPlan, STAMP_FILE } from '../../../src/core/trainer/environment';
import {
  choosePaddleBuild,
  cudaOfIndex,
  indexOfInstallLine,
  planPaddleEnvironment,
  type PaddlePlanInput,
} from '../../../src/core/trainer/paddle-environment';
import { PADDLE_ENVIRONMENT_INFO, resolveFamilyPython } from '../../../src/core/trainer/family-environments';
import { PADDLE_PYTHON_SETTING, userLevelValue } from '../../../src/features/training/paddle-setting';

const PADDLE_INDEX = 'https://www.paddlepaddle.org.cn/packages/stable/cu118/';
const linux = { os: 'linux' as const, gpus: [], nvidia_driver: null, cuda_driver_version: null };
const t4 = {
  ...linux,
  gpus: [{ vendor: 'NVIDIA', name: 'Tesla T4', vram_mib: 15360 }],
  nvidia_driver: '570.86',
  cuda_driver_version: '12.8',
};

describe('install lines without a shell', () => {
  it('turns the CUDA line into interpreter arguments, keeping Paddle’s own index', () => {
    assert.deepEqual(pipInstallArgs(`pip install paddlepaddle-gpu==3.0.0 -i ${PADDLE_INDEX}`), [
      '-m',
      'pip',
      'install',
      'paddlepaddle-gpu==3.0.0',
      '-i',
      PADDLE_INDEX,
    ]);
    assert.deepEqual(pipInstallArgs(installCommands('PaddleOCR', 'cuda')[0]!).slice(-2), ['-i', PADDLE_INDEX], 'the data’s own line');
  });

  it('accepts pip3 and python -m pip, and splits quotes as a shell would', () => {
    assert.deepEqual(pipInstallArgs('pip3 install "torch>=2.0.0" \'transformers>=4.57.0\''), [
      '-m',
      'pip',
      'install',
      'torch>=2.0.0',
      'transformers>=4.57.0',
    ]);
    assert.deepEqual(pipInstallArgs('python3 -m pip install a\\ b "c\\"d" e""f'), ['-m', 'pip', 'install', 'a b', 'c"d', 'ef']);
    assert.deepEqual(splitCommandLine('  pip   install\tx  '), ['pip', 'install', 'x']);
    assert.deepEqual(splitCommandLine('a "" b'), ['a', '', 'b']);
  });

  it('refuses lines that would need a shell, and commands that are not pip install', () => {
    for (const line of [
      'pip install x; rm -rf ~',
      'pip install x && echo',
      'pip install x | tee',
      'pip install torch>=2',
      'pip install $(cat r.txt)',
      'pip install "a$HOME"',
      'pip install `x`',
      'pip install "unclosed',
      'pip install x\nrm y',
    ]) {
      assert.throws(() => pipInstallArgs(line), /needs a shell/, line);
    }
    assert.throws(() => pipInstallArgs('curl https://x | sh'), /needs a shell/);
    assert.throws(() => pipInstallArgs('conda install paddlepaddle'), /not a pip install command/);
    assert.throws(() => pipInstallArgs('pip uninstall x'), /not a pip install command/);
    assert.throws(() => pipInstallArgs('pip install'), /not a pip install command/);
    assert.throws(() => pipInstallArgs('python -c "import os" install'), /not a pip install command/);
  });

  it('parses every install line of data/requirements.json (one home for the pins)', () => {
    for (const platform of ['cuda', 'mps', 'cpu'] as const) {
      for (const model of ['PaddleOCR', 'baseline', 'deepseek-ocr', 'lfm2-vl']) {
        for (const line of installCommands(model, platform)) assert.equal(pipInstallArgs(line)[2], 'install', line);
      }
    }
  });

  it('reads the index of a line and the CUDA version of a Paddle index', () => {
    assert.equal(indexOfInstallLine(`pip install paddlepaddle-gpu==3.0.0 -i ${PADDLE_INDEX}`), PADDLE_INDEX);
    assert.equal(indexOfInstallLine('pip install x --index-url=https://i/cu126'), 'https://i/cu126');
    assert.equal(indexOfInstallLine('pip install paddlepaddle==3.0.0'), undefined);
    assert.deepEqual(
      [cudaOfIndex(PADDLE_INDEX), cudaOfIndex('https://x/cu126'), cudaOfIndex('https://pypi.org/simple')],
      [11.8, 12.6, undefined],
    );
  });
});

describe('choosePaddleBuild', () => {
  it('installs the CUDA wheels for an NVIDIA GPU, the CPU wheels otherwise (a Mac too: no MPS backend)', () => {
    assert.equal(choosePaddleBuild(t4).build, 'cuda');
    assert.equal(choosePaddleBuild({ ...t4, cuda_driver_version: null }).build, 'cuda', 'an unknown driver version');
    assert.equal(choosePaddleBuild(linux).build, 'cpu');
    const mac = choosePaddleBuild({ ...linux, os: 'darwin' });
    assert.equal(mac.build, 'cpu');
    assert.match(mac.reason, /no MPS backend/);
  });

  it('falls back to the CPU wheels when the driver is older than the wheels’ CUDA', () => {
    const old = choosePaddleBuild({ ...t4, cuda_driver_version: '11.4' });
    assert.equal(old.build, 'cpu');
    assert.match(old.reason, /CUDA 11\.4.*need 11\.8; update the driver/);
  });
});

describe('planPaddleEnvironment', () => {
  const input: PaddlePlanInput = {
    storageDir: '/s',
    basePython: 'python3',
    os: 'linux',
    build: choosePaddleBuild(t4),
    venvExists: false,
    clone: '/work/PaddleOCR',
    cloneRequirements: 'shapely\nlmdb\n',
  };

  it('creates <storage>/paddle-venv and installs the family’s CUDA lines with Paddle’s index, then the clone’s requirements', () => {
    const plan = planPaddleEnvironment(input);
    assert.equal(plan.venvDir, '/s/paddle-venv');
    assert.equal(plan.python, '/s/paddle-venv/bin/python');
    assert.equal(plan.name, 'PaddleOCR environment');
    assert.deepEqual(
      plan.steps.map((step) => [step.command, ...step.args]),
      [
        ['python3', '-m', 'venv', '/s/paddle-venv'],
        ['/s/paddle-venv/bin/python', '-m', 'pip', 'install', '--upgrade', 'pip'],
        ['/s/paddle-venv/bin/python', '-m', 'pip', 'install', 'paddlepaddle-gpu==3.0.0', '-i', PADDLE_INDEX],
        ['/s/paddle-venv/bin/python', '-m', 'pip', 'install', 'paddleocr==3.3.3'],
        ['/s/paddle-venv/bin/python', '-m', 'pip', 'install', '-r', '/work/PaddleOCR/requirements.txt'],
      ],
    );
    assert.equal(plan.steps[2]!.title, 'Install paddlepaddle-gpu==3.0.0');
    assert.ok(
      plan.steps.every((step) => step.torchIndexUrl === undefined),
      'no torch index on any step',
    );
    assert.ok(!plan.steps.some((step) => step.args.some((arg) => /torch/.test(arg))), 'PaddlePaddle stays out of torch');
  });

  it('installs the CPU line on a CPU machine and on a Mac, and reuses an existing venv', () => {
    const cpu = planPaddleEnvironment({ ...input, build: choosePaddleBuild(linux), venvExists: true });
    assert.deepEqual(cpu.steps[1]!.args, ['-m', 'pip', 'install', 'paddlepaddle==3.0.0', 'paddleocr==3.3.3']);
    assert.equal(cpu.steps[0]!.title, 'Update pip');
    const mac = planPaddleEnvironment({ ...input, os: 'darwin', build: choosePaddleBuild({ ...linux, os: 'darwin' }) });
    assert.deepEqual(mac.steps[2]!.args, pipInstallArgs(installCommands('PaddleOCR', 'cpu')[0]!), 'mps → the cpu line');
    assert.equal(planPaddleEnvironment({ ...input, os: 'win32' }).python, join('/s/paddle-venv', 'Scripts', 'python.exe'));
  });

  it('skips the clone step without a clone or without its requirements.txt', () => {
    const last = (plan: { steps: { args: string[] }[] }) => plan.steps.at(-1)!.args;
    assert.deepEqual(last(planPaddleEnvironment({ ...input, clone: undefined })), ['-m', 'pip', 'install', 'paddleocr==3.3.3']);
    assert.deepEqual(last(planPaddleEnvironment({ ...input, cloneRequirements: undefined })), ['-m', 'pip', 'install', 'paddleocr==3.3.3']);
    assert.equal(planPaddleEnvironment({ ...input, cloneRequirements: undefined }).clone, undefined);
  });

  it('fingerprints the install lines, the clone and its requirements, so a change installs again', () => {
    const base = planPaddleEnvironment(input).fingerprint;
    assert.equal(planPaddleEnvironment({ ...input, venvExists: true }).fingerprint, base, 'not the venv’s existence');
    assert.notEqual(planPaddleEnvironment({ ...input, build: choosePaddleBuild(linux) }).fingerprint, base);
    assert.notEqual(planPaddleEnvironment({ ...input, clone: '/other' }).fingerprint, base);
    assert.notEqual(planPaddleEnvironment({ ...input, cloneRequirements: 'shapely\n' }).fingerprint, base);
    assert.notEqual(planPaddleEnvironment({ ...input, clone: undefined }).fingerprint, base);
  });

  it('runs through the trainer environment’s runner and stamp: a second run with nothing changed installs nothing', async () => {
    const storage = mkdtempSync(join(tmpdir(), 'paddle-env-'));
    try {
      // A fake "python": records its arguments; the venv exists already, so only pip steps run.
      const venv = join(storage, 'paddle-venv', 'bin');
      mkdirSync(venv, { recursive: true });
      const calls = join(storage, 'calls.txt');
      writeFileSync(join(venv, 'python'), `#!/bin/sh\necho "$@" >> ${calls}\n`, { mode: 0o755 });
      const plan = planPaddleEnvironment({ ...input, storageDir: storage, venvExists: true });
      const lines: string[] = [];
      const first = await runEnvironmentPlan(plan, (line) => lines.push(line));
      assert.equal(first.upToDate, false);
      assert.ok(existsSync(join(storage, 'paddle-venv', STAMP_FILE)));
      assert.ok(lines.some((line) => line.startsWith('PaddleOCR environment ready')));
      assert.match(
        readFileSync(calls, 'utf8'),
        new RegExp(`install paddlepaddle-gpu==3\\.0\\.0 -i ${PADDLE_INDEX.replace(/[./]/g, '\\$&')}`),
      );
      const again = await runEnvironmentPlan(plan, (line) => lines.push(line));
      assert.equal(again.upToDate, true);
      assert.match(lines.at(-1)!, /^PaddleOCR environment .* is up to date\.$/);
    } finally {
      rmSync(storage, { recursive: true, force: true });
    }
  });
});

describe('the PaddleOCR interpreter (VIN_OCR_PADDLE_PYTHON)', () => {
  const exists =
    (...paths: string[]) =>
    (path: string) =>
      paths.includes(path);
  const managed = '/storage/paddle-venv/bin/python';

  it('takes the user’s own setting in a trusted workspace, else the managed environment, else none', () => {
    const both = exists('/opt/paddle/bin/python', managed);
    const base = { storageDir: '/storage', os: 'linux' as const, exists: both };
    assert.deepEqual(
      resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, {
        ...base,
        settingPath: ' /opt/paddle/bin/python ',
        settingIsUserLevel: true,
        workspaceTrusted: true,
      }),
      {
        path: '/opt/paddle/bin/python',
        source: 'setting',
      },
    );
    assert.deepEqual(resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, base), { path: managed, source: 'managed-environment' });
    assert.equal(resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, { ...base, exists: exists() }), undefined);
    assert.equal(resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, { os: 'linux', exists: both }), undefined, 'no storage, no setting');
  });

  it('never takes the setting from a workspace, or in an untrusted workspace, or when nothing is there', () => {
    const base = { storageDir: '/storage', os: 'linux' as const, exists: exists('/ws/python', managed) };
    const setting = { settingPath: '/ws/python' };
    assert.equal(
      resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, { ...base, ...setting, settingIsUserLevel: false, workspaceTrusted: true })?.source,
      'managed-environment',
    );
    assert.equal(
      resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, { ...base, ...setting, settingIsUserLevel: true, workspaceTrusted: false })?.source,
      'managed-environment',
    );
    assert.equal(
      resolveFamilyPython(PADDLE_ENVIRONMENT_INFO, {
        ...base,
        settingPath: '/missing/python',
        settingIsUserLevel: true,
        workspaceTrusted: true,
      })?.source,
      'managed-environment',
    );
  });

  it('reads vinOcr.paddleocr.pythonPath from the User value only, and not at all in an untrusted workspace', () => {
    assert.equal(PADDLE_PYTHON_SETTING, 'vinOcr.paddleocr.pythonPath');
    assert.equal(userLevelValue({ globalValue: ' /u/python ', workspaceValue: '/ws/python' }, true), '/u/python');
    assert.equal(userLevelValue({ workspaceValue: '/ws/python', workspaceFolderValue: '/f/python' }, true), undefined);
    assert.equal(userLevelValue({ globalValue: '/u/python' }, false), undefined);
    assert.equal(userLevelValue({ globalValue: '  ' }, true), undefined);
    assert.equal(userLevelValue({ globalValue: 3 }, true), undefined);
    assert.equal(userLevelValue(undefined, true), undefined);
  });

  it('is a machine-scoped setting, restricted in untrusted workspaces, with its own set-up command', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
    const property = manifest.contributes.configuration.properties[PADDLE_PYTHON_SETTING];
    assert.equal(property.scope, 'machine');
    assert.equal(property.type, 'string');
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(PADDLE_PYTHON_SETTING));
    const command = manifest.contributes.commands.find((entry: { command: string }) => entry.command === 'vinOcr.setUpPaddleEnvironment');
    assert.equal(`${command.category}: ${command.title}`, 'VIN OCR: Set Up PaddleOCR Environment');
  });
});
