import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliFamilyPython } from '../../../src/cli/storage';
import { PADDLE_ENVIRONMENT_INFO } from '../../../src/core/trainer/family-environments';
import type { TrainerEvent } from '../../../src/core/trainer/events';
import { launchTrainer } from '../../../src/core/trainer/launch';
import { trainerEnvironment } from '../../../src/core/trainer/local-launcher';
import { PADDLE_PYTHON_ENV } from '../../../src/core/trainer/paddleocr';
import { cliTrainArgs } from '../../../src/core/trainer/trainer-args';
import { FAKE_TRAINER_DIR, PYTHON } from './process-helpers';

/** What the fake trainer's `env` mode saw. */
async function seenEnvironment(paddlePython: (() => string | undefined) | undefined, baseEnv = process.env) {
  const events: TrainerEvent[] = [];
  const trainer = launchTrainer({
    python: PYTHON,
    trainerDir: FAKE_TRAINER_DIR,
    args: ['env'],
    baseEnv,
    paddlePython,
    onEvent: (event) => events.push(event),
    onLog: () => {},
  });
  await trainer.exited;
  const log = events.find((event) => event.type === 'log');
  return JSON.parse(log && log.type === 'log' ? log.message : '{}') as Record<string, string | null>;
}

describe('VIN_OCR_PADDLE_PYTHON', () => {
  it('is set in the trainer’s environment only when a PaddleOCR interpreter was resolved', () => {
    assert.equal(PADDLE_PYTHON_ENV, 'VIN_OCR_PADDLE_PYTHON');
    assert.equal(trainerEnvironment({}, '/ext/trainer', 'linux', '/p/bin/python')[PADDLE_PYTHON_ENV], '/p/bin/python');
    assert.equal(PADDLE_PYTHON_ENV in trainerEnvironment({}, '/ext/trainer', 'linux'), false);
    assert.equal(PADDLE_PYTHON_ENV in trainerEnvironment({}, '/ext/trainer', 'linux', ''), false);
    // The user's own variable (their shell) reaches the trainer untouched when we resolved none; ours wins otherwise.
    assert.equal(trainerEnvironment({ [PADDLE_PYTHON_ENV]: '/mine' }, '/t', 'linux')[PADDLE_PYTHON_ENV], '/mine');
    assert.equal(trainerEnvironment({ [PADDLE_PYTHON_ENV]: '/mine' }, '/t', 'linux', '/ours')[PADDLE_PYTHON_ENV], '/ours');
  });

  it('reaches the trainer process, asked again at every start', async () => {
    const base = { ...process.env };
    delete base[PADDLE_PYTHON_ENV];
    let current: string | undefined = '/first/python';
    const resolver = () => current;
    assert.equal((await seenEnvironment(resolver, base))[PADDLE_PYTHON_ENV], '/first/python');
    current = undefined;
    assert.equal((await seenEnvironment(resolver, base))[PADDLE_PYTHON_ENV], null);
    assert.equal((await seenEnvironment(undefined, base))[PADDLE_PYTHON_ENV], null);
  });

  it('is handed to `vin-ocr train` by a VS Code task as --paddle-python', () => {
    assert.deepEqual(cliTrainArgs('/c.js', 'py', '/w/p.yaml', { paddlePython: '/s/paddle-venv/bin/python' }), [
      '/c.js',
      'train',
      '/w/p.yaml',
      '--python',
      'py',
      '--paddle-python',
      '/s/paddle-venv/bin/python',
    ]);
    assert.ok(!cliTrainArgs('/c.js', 'py', '/w/p.yaml', { paddlePython: undefined }).includes('--paddle-python'));
  });

  it('comes, in the CLI, from --paddle-python, else the variable as it is, else ./.paddle-venv, else the CLI’s own paddle-venv', () => {
    const data = mkdtempSync(join(tmpdir(), 'vin-ocr-data-'));
    const work = mkdtempSync(join(tmpdir(), 'vin-ocr-work-'));
    const fakePython = (venv: string) => {
      const bin = join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
      mkdirSync(bin, { recursive: true });
      const python = join(bin, process.platform === 'win32' ? 'python.exe' : 'python');
      writeFileSync(python, '');
      return python;
    };
    try {
      const env = { XDG_DATA_HOME: data };
      assert.equal(
        cliFamilyPython(PADDLE_ENVIRONMENT_INFO, ' /flag/python ', { ...env, [PADDLE_PYTHON_ENV]: '/var' }, work),
        '/flag/python',
      );
      assert.equal(
        cliFamilyPython(PADDLE_ENVIRONMENT_INFO, undefined, { ...env, [PADDLE_PYTHON_ENV]: '/var' }, work),
        undefined,
        'the variable passes through',
      );
      assert.equal(cliFamilyPython(PADDLE_ENVIRONMENT_INFO, undefined, env, work), undefined, 'no PaddleOCR environment yet');
      const managed = fakePython(join(data, 'vin-ocr', 'paddle-venv'));
      assert.equal(cliFamilyPython(PADDLE_ENVIRONMENT_INFO, undefined, env, work), managed);
      const local = fakePython(join(work, '.paddle-venv'));
      assert.equal(
        cliFamilyPython(PADDLE_ENVIRONMENT_INFO, undefined, env, work),
        local,
        'scripts/setup-paddle.sh’s, in the working folder, first',
      );
    } finally {
      rmSync(data, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });
});
