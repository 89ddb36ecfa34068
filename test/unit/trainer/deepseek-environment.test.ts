import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliFamilyPython } from '../../../src/cli/storage';
import { findModel } from '../../../src/core/hardware/requirements';
import { DEEPSEEK_ENVIRONMENT_FIX } from '../../../src/core/hardware/warnings';
import { findBasePython } from '../../../src/core/interpreter/resolve';
import { deepseekPins, planDeepseekEnvironment, type DeepseekPlanInput } from '../../../src/core/trainer/deepseek-environment';
import { DEEPSEEK_ATTENTION_HINT, DEEPSEEK_ENVIRONMENT_HINT, deepseekFailureKind } from '../../../src/core/trainer/error-codes';
import {
  DEEPSEEK_ENVIRONMENT_INFO,
  FAMILY_ENVIRONMENTS,
  familyEnvironmentOf,
  missingEnvironmentAdvice,
  modelTypeOf,
  modelTypeOfCheckpoint,
  PADDLE_ENVIRONMENT_INFO,
  resolveFamilyPython,
  trainerEnvironmentOf,
} from '../../../src/core/trainer/family-environments';
import { cliTrainArgs } from '../../../src/core/trainer/trainer-args';

const root = resolve(__dirname, '..', '..', '..');
const cpu = { build: 'cpu' as const, indexUrl: 'https://download.pytorch.org/whl/cpu', reason: 'No NVIDIA GPU' };
const input: DeepseekPlanInput = {
  storageDir: '/storage',
  basePython: '/usr/bin/python3',
  os: 'linux',
  torch: cpu,
  venvExists: false,
  requirementsFile: '/ext/trainer/requirements.txt',
  requirements: 'torch==2.13.0\nnumpy>=1.26\n',
};

describe('the family environments: one table', () => {
  it('names each family’s folders, setting, command, script and flag; DeepSeek-OCR runs the whole trainer', () => {
    assert.deepEqual(Object.keys(FAMILY_ENVIRONMENTS).sort(), ['deepseek-ocr', 'paddleocr']);
    assert.equal(PADDLE_ENVIRONMENT_INFO.role, 'child');
    assert.equal(PADDLE_ENVIRONMENT_INFO.childVariable, 'VIN_OCR_PADDLE_PYTHON');
    assert.deepEqual(
      {
        role: DEEPSEEK_ENVIRONMENT_INFO.role,
        storage: DEEPSEEK_ENVIRONMENT_INFO.storageFolder,
        local: DEEPSEEK_ENVIRONMENT_INFO.localFolder,
        setting: DEEPSEEK_ENVIRONMENT_INFO.setting,
        flag: DEEPSEEK_ENVIRONMENT_INFO.cliFlag,
      },
      {
        role: 'trainer',
        storage: 'deepseek-venv',
        local: '.deepseek-venv',
        setting: 'vinOcr.deepseekOcr.pythonPath',
        flag: '--deepseek-python',
      },
    );
    assert.equal(DEEPSEEK_ENVIRONMENT_INFO.childVariable, undefined);
  });

  it('finds the family by model.type; only DeepSeek-OCR changes the trainer’s interpreter', () => {
    assert.equal(modelTypeOf({ model: { type: 'deepseek-ocr' } }), 'deepseek-ocr');
    assert.equal(modelTypeOf({ model: {} }), undefined);
    assert.equal(modelTypeOf('text'), undefined);
    assert.equal(familyEnvironmentOf('paddleocr'), PADDLE_ENVIRONMENT_INFO);
    assert.equal(familyEnvironmentOf('baseline'), undefined);
    assert.equal(familyEnvironmentOf('toString'), undefined, 'no inherited keys');
    assert.equal(trainerEnvironmentOf('deepseek-ocr'), DEEPSEEK_ENVIRONMENT_INFO);
    assert.equal(trainerEnvironmentOf('paddleocr'), undefined);
    assert.equal(trainerEnvironmentOf(undefined), undefined);
  });

  it('resolves DeepSeek-OCR’s interpreter: the user’s own setting in a trusted workspace, else <storage>/deepseek-venv', () => {
    const managed = '/storage/deepseek-venv/bin/python';
    const exists = (path: string) => path === managed || path === '/u/python';
    const base = { storageDir: '/storage', os: 'linux' as const, exists };
    assert.deepEqual(resolveFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, base), { path: managed, source: 'managed-environment' });
    const user = { settingPath: '/u/python', settingIsUserLevel: true, workspaceTrusted: true };
    assert.equal(resolveFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, { ...base, ...user })?.source, 'setting');
    assert.equal(
      resolveFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, { ...base, ...user, workspaceTrusted: false })?.source,
      'managed-environment',
    );
    assert.equal(
      resolveFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, { ...base, ...user, settingIsUserLevel: false })?.source,
      'managed-environment',
    );
    assert.equal(resolveFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, { ...base, exists: () => false }), undefined);
  });

  it('says what to do when the environment is missing: the command, the script, the setting', () => {
    const advice = missingEnvironmentAdvice(DEEPSEEK_ENVIRONMENT_INFO);
    assert.match(advice, /VIN OCR: Set Up DeepSeek-OCR Environment/);
    assert.match(advice, /scripts\/setup-deepseek\.sh/);
    assert.match(advice, /vinOcr\.deepseekOcr\.pythonPath/);
  });
});

describe('a checkpoint’s family (which interpreter reads it)', () => {
  const files = (entries: Record<string, string>) => (file: string) => Promise.resolve(entries[file]);
  const summary = (family: string) => JSON.stringify({ family, step: 2, config: { model: { type: family } } });

  it('reads a checkpoint folder’s summary, a run folder’s best or last, else the run’s config', async () => {
    assert.equal(
      await modelTypeOfCheckpoint('/r/checkpoints/best', files({ '/r/checkpoints/best/checkpoint.json': summary('deepseek-ocr') })),
      'deepseek-ocr',
    );
    assert.equal(await modelTypeOfCheckpoint('/r', files({ '/r/checkpoints/last/checkpoint.json': summary('lfm2-vl') })), 'lfm2-vl');
    assert.equal(await modelTypeOfCheckpoint('/r', files({ '/r/config.yaml': 'model:\n  type: deepseek-ocr\n' })), 'deepseek-ocr');
    const aboveFolder = files({ '/r/config.yaml': 'model:\n  type: deepseek-ocr\n', '/r/checkpoints/best/checkpoint.json': '{broken' });
    assert.equal(await modelTypeOfCheckpoint('/r/checkpoints/best', aboveFolder), 'deepseek-ocr', 'the run above a checkpoint folder');
  });

  it('knows none for a baseline file, a bare adapter or nothing readable', async () => {
    assert.equal(await modelTypeOfCheckpoint('/r/checkpoints/best.pt', files({})), undefined);
    assert.equal(await modelTypeOfCheckpoint('/adapter', files({ '/adapter/adapter_config.json': '{}' })), undefined);
  });
});

describe('the DeepSeek-OCR environment plan', () => {
  it('creates the venv, then torch from this machine’s index, then the measured pins with the trainer’s requirements', () => {
    const plan = planDeepseekEnvironment(input);
    assert.equal(plan.venvDir, '/storage/deepseek-venv');
    assert.equal(plan.python, '/storage/deepseek-venv/bin/python');
    assert.deepEqual(plan.steps[0], {
      title: 'Create the DeepSeek-OCR environment',
      command: '/usr/bin/python3',
      args: ['-m', 'venv', '/storage/deepseek-venv'],
    });
    const torch = plan.steps.find((step) => step.torchIndexUrl);
    assert.deepEqual(torch?.args, ['-m', 'pip', 'install', 'torch==2.13.0']);
    assert.equal(torch?.torchIndexUrl, 'https://download.pytorch.org/whl/cpu', 'the CPU wheels on a CPU machine');
    const last = plan.steps.at(-1)!;
    assert.ok(last.args.includes('transformers==4.46.3'));
    assert.deepEqual(last.args.slice(-2), ['-r', '/ext/trainer/requirements.txt']);
    assert.ok(!last.args.some((arg) => /^torch\b/.test(arg)), 'torch only once, from its own index');
    for (const step of plan.steps) {
      assert.equal(step.command === input.basePython || step.command === plan.python, true, 'every step is an interpreter, no shell');
      assert.ok(!step.args.some((arg) => /torchvision|flash.?attn/i.test(arg)), `no torchvision, no flash-attn stub: ${step.title}`);
    }
  });

  it('installs exactly the pins of data/requirements.json (what scripts/setup-deepseek.sh installs)', () => {
    const pins = findModel('deepseek-ocr')!.environment!.pip;
    assert.deepEqual(deepseekPins(), pins);
    const installed = planDeepseekEnvironment(input).steps.flatMap((step) => step.args.filter((arg) => /[=<>]/.test(arg)));
    assert.deepEqual(installed.sort(), [...pins].sort());
    assert.match(readFileSync(join(root, 'scripts', 'setup-deepseek.sh'), 'utf8'), /environment\["pip"\]/);
  });

  it('skips creating an existing venv, and changes its fingerprint with the pins, the requirements and the torch index', () => {
    const plan = planDeepseekEnvironment(input);
    assert.equal(planDeepseekEnvironment({ ...input, venvExists: true }).steps[0]!.title, 'Update pip');
    assert.equal(planDeepseekEnvironment({ ...input }).fingerprint, plan.fingerprint);
    assert.notEqual(planDeepseekEnvironment({ ...input, pins: ['torch==2.13.0', 'transformers==4.47.1'] }).fingerprint, plan.fingerprint);
    assert.notEqual(planDeepseekEnvironment({ ...input, requirements: 'torch==2.13.0\n' }).fingerprint, plan.fingerprint);
    assert.notEqual(planDeepseekEnvironment({ ...input, torch: { build: 'mps', reason: 'Mac' } }).fingerprint, plan.fingerprint);
    assert.equal(planDeepseekEnvironment({ ...input, os: 'win32' }).python, join('/storage/deepseek-venv', 'Scripts', 'python.exe'));
  });
});

describe('DeepSeek-OCR in the manifest, the doctor’s fix and the CLI', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

  it('has a machine-scoped setting restricted in untrusted workspaces, and its set-up command', () => {
    const property = manifest.contributes.configuration.properties[DEEPSEEK_ENVIRONMENT_INFO.setting];
    assert.equal(property.scope, 'machine');
    assert.equal(property.type, 'string');
    assert.ok(property.markdownDescription.length > 40);
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(DEEPSEEK_ENVIRONMENT_INFO.setting));
    const command = manifest.contributes.commands.find(
      (entry: { command: string }) => entry.command === DEEPSEEK_ENVIRONMENT_INFO.setUpCommand,
    );
    assert.equal(`${command.category}: ${command.title}`, `VIN OCR: ${DEEPSEEK_ENVIRONMENT_INFO.setUpTitle}`);
  });

  it('the transformers-too-new warning’s fix names the command and the script', () => {
    assert.ok(DEEPSEEK_ENVIRONMENT_FIX.includes(`"VIN OCR: ${DEEPSEEK_ENVIRONMENT_INFO.setUpTitle}"`));
    assert.ok(DEEPSEEK_ENVIRONMENT_FIX.includes(DEEPSEEK_ENVIRONMENT_INFO.setUpScript));
    assert.ok(DEEPSEEK_ENVIRONMENT_FIX.includes(DEEPSEEK_ENVIRONMENT_INFO.cliFlag));
  });

  it('hands a task’s window environment to the CLI as --deepseek-python', () => {
    assert.deepEqual(cliTrainArgs('/c.js', 'py', '/w/d.yaml', { deepseekPython: '/s/deepseek-venv/bin/python' }).slice(-2), [
      '--deepseek-python',
      '/s/deepseek-venv/bin/python',
    ]);
    assert.ok(!cliTrainArgs('/c.js', 'py', '/w/d.yaml').includes('--deepseek-python'));
  });

  it('finds, in the CLI, --deepseek-python, else ./.deepseek-venv, else the CLI’s own deepseek-venv', () => {
    const data = mkdtempSync(join(tmpdir(), 'vin-ocr-data-'));
    const work = mkdtempSync(join(tmpdir(), 'vin-ocr-work-'));
    const fakePython = (venv: string) => {
      mkdirSync(join(venv, 'bin'), { recursive: true });
      writeFileSync(join(venv, 'bin', 'python'), '');
      return join(venv, 'bin', 'python');
    };
    try {
      const env = { XDG_DATA_HOME: data };
      assert.equal(cliFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, ' /flag/python ', env, work), '/flag/python');
      assert.equal(cliFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, undefined, env, work), undefined);
      const managed = fakePython(join(data, 'vin-ocr', 'deepseek-venv'));
      assert.equal(cliFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, undefined, env, work), managed);
      const local = fakePython(join(work, '.deepseek-venv'));
      assert.equal(cliFamilyPython(DEEPSEEK_ENVIRONMENT_INFO, undefined, env, work), local, 'scripts/setup-deepseek.sh’s first');
    } finally {
      rmSync(data, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('vin-ocr train refuses a deepseek-ocr config without its environment, before starting anything', function () {
    this.timeout(60_000);
    const work = mkdtempSync(join(tmpdir(), 'vin-ocr-work-'));
    try {
      writeFileSync(
        join(work, 'd.yaml'),
        'model:\n  type: deepseek-ocr\n  model_id: /nowhere/model\ndata:\n  train: synthetic\n  val: synthetic\n',
      );
      const cli = [
        '--import',
        pathToFileURL(require.resolve('tsx')).href,
        join(root, 'src', 'cli.ts'),
        'train',
        'd.yaml',
        '--python',
        process.execPath,
      ];
      const result = spawnSync(process.execPath, cli, { cwd: work, encoding: 'utf8', env: { ...process.env, XDG_DATA_HOME: work } });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /DeepSeek-OCR trains in an environment of its own/);
      assert.match(result.stderr, /scripts\/setup-deepseek\.sh/);
      assert.match(result.stderr, /--deepseek-python PATH/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('the Python that creates environments (one home for every set-up)', () => {
  it('is python3 on PATH, else python; python first on Windows', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'vin-ocr-path-'));
    try {
      const env = { PATH: bin };
      assert.equal(await findBasePython(env, 'linux'), undefined);
      for (const name of ['python', 'python3']) {
        writeFileSync(join(bin, name), '#!/bin/sh\n');
        chmodSync(join(bin, name), 0o755);
      }
      assert.equal(await findBasePython(env, 'linux'), join(bin, 'python3'));
      rmSync(join(bin, 'python3'));
      assert.equal(await findBasePython(env, 'linux'), join(bin, 'python'));
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('a failed DeepSeek-OCR run’s advice (as measured on its real code)', () => {
  it('is its own environment when transformers is too new or an import failed', () => {
    const tooNew = "DeepSeek-OCR's code cannot be imported by transformers 4.57.1 (4.48 removed LlamaFlashAttention2, which it imports)";
    assert.equal(deepseekFailureKind({ errorCode: 'missing_dependency', errorMessage: tooNew }), 'environment');
    assert.equal(
      deepseekFailureKind({ errorCode: 'missing_dependency', errorMessage: "/py has no module named 'einops'." }),
      'environment',
    );
    const crash = ["ImportError: cannot import name 'LlamaFlashAttention2' from 'transformers.models.llama.modeling_llama'"];
    assert.equal(deepseekFailureKind({ errorCode: 'crashed', tail: crash }), 'environment');
    assert.equal(deepseekFailureKind({ errorCode: 'internal_error', errorMessage: 'ImportError: cannot import name X' }), 'environment');
    assert.match(DEEPSEEK_ENVIRONMENT_HINT, /"VIN OCR: Set Up DeepSeek-OCR Environment"/);
    assert.match(DEEPSEEK_ENVIRONMENT_HINT, /scripts\/setup-deepseek\.sh/);
  });

  it('is eager attention for a missing flash-attn, and the stub is not offered as its fix', () => {
    assert.equal(deepseekFailureKind({ errorCode: 'flash_attn_missing' }), 'attention');
    assert.match(DEEPSEEK_ATTENTION_HINT, /eager/);
    assert.match(DEEPSEEK_ATTENTION_HINT, /stub does not help/);
    assert.doesNotMatch(DEEPSEEK_ATTENTION_HINT, /sdpa/);
  });

  it('leaves other failures (weights that could not be fetched, out of memory) to the usual advice', () => {
    const offline = "'x' is not in the Hugging Face cache and offline mode is on (HF_HUB_OFFLINE=1).";
    assert.equal(deepseekFailureKind({ errorCode: 'missing_dependency', errorMessage: offline }), undefined);
    assert.equal(deepseekFailureKind({ errorCode: 'missing_dependency', errorMessage: "Could not load 'x': boom" }), undefined);
    assert.equal(deepseekFailureKind({ errorCode: 'out_of_memory', errorMessage: 'The cpu device ran out of memory' }), undefined);
    assert.equal(deepseekFailureKind({ errorCode: 'crashed', tail: ['Segmentation fault'] }), undefined);
  });
});
