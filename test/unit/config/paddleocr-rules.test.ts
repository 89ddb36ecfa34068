import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateText } from '../../../src/core/config/validate';
import { A10G_WITH_FLASH_ATTN } from '../features-hardware/machines';
import { only } from './helpers';

const file = '/work/configs/paddle.yaml';
const CLONE = '/work/PaddleOCR';
/** A PaddleOCR clone on a pretend disk: the folder, tools/train.py, tools/export_model.py, ppocr/, the default base config. */
const CLONE_FILES = [
  CLONE,
  `${CLONE}/tools/train.py`,
  `${CLONE}/tools/export_model.py`,
  `${CLONE}/ppocr/`,
  `${CLONE}/configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml`,
];
const disk =
  (...paths: string[]) =>
  (path: string): boolean =>
    paths.includes(path);
const withClone = disk(...CLONE_FILES);

const config = (paddle: string, extra = '') => `model:\n  type: paddleocr\npaddleocr:\n${paddle}${extra}`;
const codes = (text: string, fileExists: ((path: string) => boolean) | 'none' = withClone) =>
  validateText(text, { file, fileExists: fileExists === 'none' ? undefined : fileExists }).map((problem) => problem.code);

describe('paddleocr rules: the clone', () => {
  it('accepts a clone with tools/train.py, ppocr/ and the default base config, relative to the config file', () => {
    assert.deepEqual(validateText(config('  repo: ../PaddleOCR\n'), { file, fileExists: withClone }), []);
  });

  it('asks for paddleocr.repo when model.type is paddleocr and it is missing or null, at the place it belongs', () => {
    const [noSection] = only(validateText('model:\n  type: paddleocr\n', { file }), 'paddleocr-repo-missing');
    assert.equal(noSection!.line, 2, 'at model.type when there is no section');
    assert.equal(noSection!.severity, 'error');
    assert.match(noSection!.message, /git clone https:\/\/github\.com\/PaddlePaddle\/PaddleOCR/);
    const [emptySection] = only(validateText(config('  max_text_length: 25\n'), { file }), 'paddleocr-repo-missing');
    assert.deepEqual([emptySection!.line, emptySection!.column, emptySection!.endColumn], [3, 1, 10], 'the paddleocr key');
    const [nullRepo] = only(validateText(config('  repo: null\n'), { file }), 'paddleocr-repo-missing');
    assert.deepEqual([nullRepo!.line, nullRepo!.column], [4, 9]);
  });

  it('reports a repo folder that does not exist, resolved against the config file', () => {
    const [problem] = only(validateText(config('  repo: ../Paddle\n'), { file, fileExists: withClone }), 'paddleocr-repo-missing');
    assert.equal(problem!.line, 4);
    assert.match(problem!.message, /looked for \/work\/Paddle\b/);
  });

  it('says a folder without tools/train.py, tools/export_model.py or ppocr/ is not a PaddleOCR clone, and how to get one', () => {
    const [noTrain] = only(
      validateText(config('  repo: ../PaddleOCR\n'), {
        file,
        fileExists: disk(CLONE, `${CLONE}/tools/export_model.py`, `${CLONE}/ppocr/`),
      }),
      'paddleocr-not-a-clone',
    );
    assert.match(noTrain!.message, /not a PaddleOCR clone \(no tools\/train\.py\)/);
    assert.match(noTrain!.message, /clone https:\/\/github\.com\/PaddlePaddle\/PaddleOCR/);
    assert.equal(noTrain!.line, 4);
    const [noPackage] = only(
      validateText(config('  repo: ../PaddleOCR\n'), {
        file,
        fileExists: disk(CLONE, `${CLONE}/tools/train.py`, `${CLONE}/tools/export_model.py`),
      }),
      'paddleocr-not-a-clone',
    );
    assert.match(noPackage!.message, /\(no ppocr\/\)/);
    const [bare] = only(validateText(config('  repo: ../PaddleOCR\n'), { file, fileExists: disk(CLONE) }), 'paddleocr-not-a-clone');
    assert.match(bare!.message, /\(no tools\/train\.py, no tools\/export_model\.py, no ppocr\/\)/, 'everything the trainer needs, at once');
  });

  it('expands ~ and takes absolute paths as they are', () => {
    const seen: string[] = [];
    validateText(config('  repo: ~/src/PaddleOCR\n'), { file, fileExists: (path) => (seen.push(path), false) });
    assert.deepEqual(seen, [join(homedir(), 'src', 'PaddleOCR')]);
    assert.deepEqual(codes(config('  repo: /work/PaddleOCR\n')), []);
  });

  it('reports a base config the clone does not have, at base_config, or at the section for the default', () => {
    const [named] = only(
      validateText(config('  repo: ../PaddleOCR\n  base_config: configs/rec/PP-OCRv4/x.yml\n'), { file, fileExists: withClone }),
      'paddleocr-base-config-missing',
    );
    assert.equal(named!.line, 5);
    assert.match(named!.message, /looked for \/work\/PaddleOCR\/configs\/rec\/PP-OCRv4\/x\.yml/);
    const oldClone = disk(...CLONE_FILES.slice(0, 4));
    const [byDefault] = only(
      validateText(config('  repo: ../PaddleOCR\n'), { file, fileExists: oldClone }),
      'paddleocr-base-config-missing',
    );
    assert.equal(byDefault!.line, 3);
    assert.match(byDefault!.message, /PP-OCRv5_mobile_rec\.yml" \(the default\)/);
    assert.deepEqual(
      codes(config('  repo: ../PaddleOCR\n  base_config: /abs/rec.yml\n'), disk(...CLONE_FILES, '/abs/rec.yml')),
      [],
      'an absolute base config outside the clone',
    );
  });

  it('skips every filesystem check without a fileExists hook', () => {
    assert.deepEqual(codes(config('  repo: ../nowhere\n  base_config: nope.yml\n  pretrained_model: nope\n'), 'none'), []);
  });

  it('checks the real PaddleOCR clone in ../shared when there is one', function () {
    const vendor = resolve('/work/shared/vendor/PaddleOCR');
    if (!existsSync(join(vendor, 'tools', 'train.py'))) this.skip();
    const text = config(`  repo: ${vendor}\n`);
    assert.deepEqual(validateText(text, { file, fileExists: existsSync }), []);
    assert.deepEqual(
      validateText(config(`  repo: ${vendor}/configs\n`), { file, fileExists: existsSync }).map((problem) => problem.code),
      ['paddleocr-not-a-clone'],
    );
  });
});

describe('paddleocr rules: the recognizer and its weights', () => {
  it('refuses max_text_length below 17 (a VIN), offering the default', () => {
    const [problem] = only(
      validateText(config('  repo: ../PaddleOCR\n  max_text_length: 16\n'), { file, fileExists: withClone }),
      'paddleocr-max-text-length',
    );
    assert.equal(problem!.line, 5);
    assert.match(problem!.message, /a VIN has 17 characters/);
    assert.equal(problem!.fix?.replacement, 25);
    assert.deepEqual(codes(config('  repo: ../PaddleOCR\n  max_text_length: 17\n')), []);
    assert.deepEqual(codes(config('  repo: ../PaddleOCR\n  max_text_length: 0\n')), ['out-of-range'], 'the schema speaks below 1, once');
    assert.deepEqual(codes(config('  repo: ../PaddleOCR\n  max_text_length: 257\n')), ['out-of-range']);
  });

  it('refuses a URL for pretrained_model: nothing is downloaded offline', () => {
    const text = config('  repo: ../PaddleOCR\n  pretrained_model: https://paddle-model-ecology.bj.bcebos.com/x.pdparams\n');
    const [problem] = only(validateText(text, { file, fileExists: withClone }), 'paddleocr-pretrained-url');
    assert.equal(problem!.line, 5);
    assert.match(problem!.message, /cannot be downloaded offline; download the \.pdparams and give its path/);
    assert.deepEqual(codes(text, 'none'), ['paddleocr-pretrained-url'], 'needs no filesystem');
  });

  it('finds local weights with or without .pdparams, relative to the config file', () => {
    const weights = '/work/configs/weights/rec.pdparams';
    assert.deepEqual(codes(config('  repo: ../PaddleOCR\n  pretrained_model: weights/rec\n'), disk(...CLONE_FILES, weights)), []);
    assert.deepEqual(codes(config('  repo: ../PaddleOCR\n  pretrained_model: weights/rec.pdparams\n'), disk(...CLONE_FILES, weights)), []);
    assert.deepEqual(codes(config('  repo: ../PaddleOCR\n  pretrained_model: null\n')), []);
    const [missing] = only(
      validateText(config('  repo: ../PaddleOCR\n  pretrained_model: weights/other\n'), { file, fileExists: withClone }),
      'paddleocr-pretrained-missing',
    );
    assert.equal(missing!.line, 5);
    assert.match(missing!.message, /looked for \/work\/configs\/weights\/other and \/work\/configs\/weights\/other\.pdparams/);
  });
});

describe('paddleocr rules: what PaddlePaddle cannot do', () => {
  const paddle = '  repo: ../PaddleOCR\n';

  it('refuses MPS, offering the CPU', () => {
    const [problem] = validateText(config(paddle, 'training:\n  device: mps\n'), { file, fileExists: withClone });
    assert.equal(problem!.code, 'paddleocr-mps');
    assert.equal(problem!.line, 6);
    assert.match(problem!.message, /PaddlePaddle has no MPS backend; use cpu/);
    assert.equal(problem!.fix?.replacement, 'cpu');
    assert.deepEqual(codes(config(paddle, 'training:\n  device: cpu\n')), []);
  });

  it('refuses fp16 and bf16, offering auto; accepts auto and fp32', () => {
    for (const precision of ['fp16', 'bf16']) {
      const [problem] = validateText(config(paddle, `training:\n  precision: ${precision}\n`), { file, fileExists: withClone });
      assert.equal(problem!.code, 'paddleocr-precision');
      assert.match(problem!.message, new RegExp(`${precision} is not supported for paddleocr yet; use auto \\(fp32\\)`));
      assert.equal(problem!.fix?.replacement, 'auto');
    }
    assert.deepEqual(codes(config(paddle, 'training:\n  precision: fp32\n')), []);
  });

  it('refuses several processes or nodes, and not the torchrun checks that do not apply', () => {
    const text = config(paddle, 'distributed:\n  nproc_per_node: 2\n  nnodes: 2\n  backend: nccl\ntraining:\n  device: cpu\n');
    const problems = validateText(text, { file, fileExists: withClone, facts: A10G_WITH_FLASH_ATTN });
    assert.deepEqual(
      problems.map((problem) => `${problem.line} ${problem.code}`),
      ['6 paddleocr-distributed', '7 paddleocr-distributed'],
    );
    assert.match(problems[0]!.message, /data-parallel PaddleOCR training is not supported yet; use nproc_per_node: 1/);
    assert.equal(problems[0]!.fix?.replacement, 1);
    assert.deepEqual(codes(config(paddle, 'distributed:\n  nproc_per_node: 1\n')), []);
  });

  it('leaves the baseline alone: its mps, bf16 and processes are fine', () => {
    assert.deepEqual(
      codes('model:\n  type: baseline\ntraining:\n  device: mps\n  precision: bf16\ndistributed:\n  nproc_per_node: 2\n  backend: gloo\n'),
      [],
    );
  });
});

describe('paddleocr rules: a paddleocr section elsewhere', () => {
  it('warns that a paddleocr section is ignored unless model.type is paddleocr', () => {
    const [problem] = validateText('model:\n  type: lfm2-vl\npaddleocr:\n  repo: ../PaddleOCR\n', { file });
    assert.equal(problem!.code, 'paddleocr-section-ignored');
    assert.equal(problem!.severity, 'warning');
    assert.equal(problem!.line, 3);
    assert.match(problem!.message, /model\.type is lfm2-vl, not paddleocr/);
  });
});
