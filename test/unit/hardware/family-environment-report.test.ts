import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  deepseekTransformers,
  describeDeepseekEnvironment,
  probeDeepseekEnvironment,
  withDeepseekEnvironment,
  withinBounds,
} from '../../../src/core/hardware/family-environment-report';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { parseProbeOutput } from '../../../src/core/hardware/probe';
import { formatDoctorText } from '../../../src/core/hardware/report';
import type { HardwareFacts } from '../../../src/core/hardware/types';

const facts = (transformers: string | null): HardwareFacts => ({
  os: 'linux',
  arch: 'x64',
  cpu: { brand: 'Test CPU', cores: 8 },
  ram_bytes: 32e9,
  gpus: [],
  nvidia_driver: null,
  cuda_driver_version: null,
  python: {
    path: '/venv/bin/python',
    version: '3.11.7',
    torch: '2.13.0+cpu',
    cuda_available: false,
    mps_available: false,
    flash_attn: null,
    transformers,
  },
});
const found = { python: '/w/.deepseek-venv/bin/python', transformers: '4.46.3', usable: true };

describe('the doctor and DeepSeek-OCR’s own environment', () => {
  it('checks a version against the environment’s bounds (data/requirements.json: >=4.46.3,<4.48)', () => {
    assert.equal(deepseekTransformers(), '>=4.46.3,<4.48');
    assert.ok(withinBounds('4.46.3', '>=4.46.3,<4.48'));
    assert.ok(withinBounds('4.47.1', '>=4.46.3,<4.48'));
    assert.ok(!withinBounds('4.48.0', '>=4.46.3,<4.48'));
    assert.ok(!withinBounds('4.45.2', '>=4.46.3,<4.48'));
    assert.ok(!withinBounds('garbage', '>=4.46.3,<4.48'));
  });

  it('adds the environment to the report, and a warning only when DeepSeek-OCR’s code cannot import there', () => {
    const report = evaluatePolicy(facts('5.24.0'));
    assert.ok(!report.warnings.some((entry) => entry.code === 'transformers-too-new-for-deepseek'), 'the trainer’s own is not judged');
    const extended = withDeepseekEnvironment(report, found);
    assert.deepEqual(extended.environments, { 'deepseek-ocr': found });
    assert.deepEqual(extended.warnings, report.warnings, 'a usable environment: nothing to warn about');
    assert.deepEqual(
      Object.keys(extended).filter((key) => !(key in report)),
      ['environments'],
      'only an optional field is added',
    );
    assert.deepEqual(extended.models, report.models);
    const broken = withDeepseekEnvironment(report, { ...found, transformers: '4.57.1', usable: false });
    const warning = broken.warnings.find((entry) => entry.code === 'transformers-too-new-for-deepseek')!;
    assert.match(warning.message, /\/w\/\.deepseek-venv\/bin\/python holds transformers 4\.57\.1/);
    assert.match(warning.fix, /Set Up DeepSeek-OCR Environment/);
    assert.match(warning.fix, /scripts\/setup-deepseek\.sh/);
    assert.equal(withDeepseekEnvironment(report, undefined), report, 'none found: the report as it was');
  });

  it('shows the environment in the text report, and what is wrong with a broken one', () => {
    const text = formatDoctorText(facts('4.46.3'), withDeepseekEnvironment(evaluatePolicy(facts('4.46.3')), found));
    assert.match(text, /Model environments\n {2}deepseek-ocr {2}\/w\/\.deepseek-venv\/bin\/python {2}transformers 4\.46\.3\n/);
    assert.doesNotMatch(formatDoctorText(facts('4.46.3'), evaluatePolicy(facts('4.46.3'))), /Model environments/);
    assert.match(
      describeDeepseekEnvironment({ ...found, transformers: '4.57.1', usable: false }),
      /holds transformers 4\.57\.1: DeepSeek-OCR's code needs >=4\.46\.3,<4\.48/,
    );
    assert.match(describeDeepseekEnvironment({ ...found, transformers: null, usable: false }), /has no transformers/);
    assert.match(
      describeDeepseekEnvironment({ ...found, transformers: null, usable: false, error: 'not found' }),
      /does not run \(not found\)/,
    );
  });

  it('asks the environment’s interpreter for its transformers version, and never throws', async function () {
    if (process.platform === 'win32') this.skip(); // the stand-in interpreters are shell scripts
    const folder = mkdtempSync(join(tmpdir(), 'vin-ocr-deepseek-probe-'));
    const standIn = (name: string, output: string) => {
      const file = join(folder, name);
      writeFileSync(file, `#!/bin/sh\necho '${output}'\n`);
      chmodSync(file, 0o755);
      return file;
    };
    try {
      assert.deepEqual(await probeDeepseekEnvironment(standIn('good', '4.46.3')), {
        python: join(folder, 'good'),
        transformers: '4.46.3',
        usable: true,
      });
      assert.equal((await probeDeepseekEnvironment(standIn('new', '4.57.1'))).usable, false);
      assert.deepEqual(await probeDeepseekEnvironment(standIn('none', '')), {
        python: join(folder, 'none'),
        transformers: null,
        usable: false,
      });
      const missing = await probeDeepseekEnvironment(join(folder, 'absent'));
      assert.equal(missing.usable, false);
      assert.match(missing.error ?? '', /not found/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('keeps the probe’s transformers version (absent from older probes)', () => {
    const line = (extra: string) => `{"path": "/p", "version": "3.11.9", "torch": "2.13.0"${extra}}`;
    assert.equal(parseProbeOutput(line(', "transformers": "5.24.0"')).transformers, '5.24.0');
    assert.equal(parseProbeOutput(line(', "transformers": null')).transformers, null);
    assert.ok(!('transformers' in parseProbeOutput(line(''))));
  });

  it('vin-ocr doctor --json --deepseek-python reports the environment', function () {
    if (process.platform === 'win32') this.skip();
    this.timeout(60_000);
    const root = resolve(__dirname, '..', '..', '..');
    const folder = mkdtempSync(join(tmpdir(), 'vin-ocr-doctor-'));
    try {
      const python = join(folder, 'python');
      writeFileSync(python, "#!/bin/sh\necho '4.47.1'\n");
      chmodSync(python, 0o755);
      const cli = ['--import', pathToFileURL(require.resolve('tsx')).href, join(root, 'src', 'cli.ts')];
      const result = spawnSync(process.execPath, [...cli, 'doctor', '--json', '--deepseek-python', python], {
        cwd: folder,
        encoding: 'utf8',
        env: { ...process.env, XDG_DATA_HOME: folder },
      });
      assert.equal(result.status, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.deepEqual(report.environments, { 'deepseek-ocr': { python, transformers: '4.47.1', usable: true } });
      assert.ok(report.platform && report.models && Array.isArray(report.warnings), 'the contract’s fields are all there');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
