// Rules of `model.type: paddleocr` configs that the trainer also enforces at start (its paddleocr family):
// the clone, the base config and the pretrained weights exist; the recognizer can read 17 characters; and
// what PaddlePaddle cannot do here (MPS, fp16/bf16, several processes). The clone's facts come from
// src/core/trainer/paddleocr.ts; without a `fileExists` hook the filesystem checks stay silent.
import { join } from 'node:path';
import {
  baseConfigOf,
  CLONE_MARKERS,
  isPaddleocrConfig,
  isUrl,
  MIN_TEXT_LENGTH,
  paddleCloneOf,
  paddleocrSection,
  PADDLEOCR_CLONE_URL,
  PDPARAMS,
  pretrainedCandidates,
} from '../trainer/paddleocr';
import type { Finding } from './finding';
import { isPlainObject } from './kinds';
import type { At, TrainingRuleContext } from './training-rules';

const SECTION = 'paddleocr';

export function paddleocrRules(data: Record<string, unknown>, context: TrainingRuleContext, at: At): Finding[] {
  if (!isPaddleocrConfig(data)) return sectionIgnored(data, at);
  return [...cloneRules(data, context, at), ...maxTextLength(data, at), ...pretrainedRules(data, context, at), ...trainingRules(data, at)];
}

/** A `paddleocr` section in a config of another family: the trainer ignores it, with the same warning. */
function sectionIgnored(data: Record<string, unknown>, at: At): Finding[] {
  if (!(SECTION in data)) return [];
  const model = isPlainObject(data.model) ? data.model : {};
  const type = typeof model.type === 'string' ? model.type : 'baseline';
  return [
    {
      span: at([SECTION], 'key'),
      severity: 'warning',
      code: 'paddleocr-section-ignored',
      message: `The paddleocr section is ignored: model.type is ${type}, not paddleocr.`,
    },
  ];
}

function cloneRules(data: Record<string, unknown>, context: TrainingRuleContext, at: At): Finding[] {
  const section = paddleocrSection(data);
  const clone = paddleCloneOf(context.file, data);
  if (!clone) {
    const where = 'repo' in section ? at([SECTION, 'repo']) : SECTION in data ? at([SECTION], 'key') : at(['model', 'type']);
    return [
      {
        span: where,
        severity: 'error',
        code: 'paddleocr-repo-missing',
        message: `model.type paddleocr needs paddleocr.repo: the path of your PaddleOCR clone (git clone ${PADDLEOCR_CLONE_URL}).`,
      },
    ];
  }
  if (!context.fileExists) return [];
  const exists = context.fileExists;
  const repo = String(section.repo);
  if (!exists(clone)) {
    return [
      {
        span: at([SECTION, 'repo']),
        severity: 'error',
        code: 'paddleocr-repo-missing',
        message: `paddleocr.repo: "${repo}" does not exist (looked for ${clone}); give the path of your PaddleOCR clone.`,
      },
    ];
  }
  const missing = [CLONE_MARKERS.trainScript, CLONE_MARKERS.exportScript, CLONE_MARKERS.package].filter(
    (marker) => !exists(join(clone, marker)),
  );
  if (missing.length) {
    return [
      {
        span: at([SECTION, 'repo']),
        severity: 'error',
        code: 'paddleocr-not-a-clone',
        message:
          `paddleocr.repo: ${clone} is not a PaddleOCR clone (no ${missing.join(', no ')}); ` +
          `clone ${PADDLEOCR_CLONE_URL} and point repo at it.`,
      },
    ];
  }
  const base = baseConfigOf(clone, data);
  if (exists(base.path)) return [];
  return [
    {
      span: base.isDefault ? at([SECTION], 'key') : at([SECTION, 'base_config']),
      severity: 'error',
      code: 'paddleocr-base-config-missing',
      message:
        `paddleocr.base_config: "${base.value}"${base.isDefault ? ' (the default)' : ''} is not in the clone (looked for ${base.path}); ` +
        'name a recognition config of your clone, e.g. configs/rec/PP-OCRv4/PP-OCRv4_server_rec.yml.',
    },
  ];
}

function maxTextLength(data: Record<string, unknown>, at: At): Finding[] {
  const value = paddleocrSection(data).max_text_length;
  // Below 1 (or not an integer) the schema already says so.
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value >= MIN_TEXT_LENGTH) return [];
  return [
    {
      span: at([SECTION, 'max_text_length']),
      severity: 'error',
      code: 'paddleocr-max-text-length',
      message:
        `paddleocr.max_text_length is ${value}, but a VIN has ${MIN_TEXT_LENGTH} characters; ` +
        `use at least ${MIN_TEXT_LENGTH} (default 25).`,
      fix: { title: 'Use 25 (the default)', replacement: 25 },
    },
  ];
}

function pretrainedRules(data: Record<string, unknown>, context: TrainingRuleContext, at: At): Finding[] {
  const value = paddleocrSection(data).pretrained_model;
  if (typeof value !== 'string' || !value.trim()) return [];
  const path = [SECTION, 'pretrained_model'];
  if (isUrl(value)) {
    return [
      {
        span: at(path),
        severity: 'error',
        code: 'paddleocr-pretrained-url',
        message: `paddleocr.pretrained_model: "${value}" cannot be downloaded offline; download the ${PDPARAMS} and give its path.`,
      },
    ];
  }
  if (!context.fileExists) return [];
  const candidates = pretrainedCandidates(context.file, value);
  if (candidates.some((candidate) => context.fileExists!(candidate))) return [];
  return [
    {
      span: at(path),
      severity: 'error',
      code: 'paddleocr-pretrained-missing',
      message:
        `paddleocr.pretrained_model: "${value}" does not exist (looked for ${candidates.join(' and ')}); ` +
        `give a local ${PDPARAMS} file, or null for random weights.`,
    },
  ];
}

/** What PaddlePaddle cannot do here: MPS, half precision, several processes. */
function trainingRules(data: Record<string, unknown>, at: At): Finding[] {
  const training = isPlainObject(data.training) ? data.training : {};
  const findings: Finding[] = [];
  if (training.device === 'mps') {
    findings.push({
      span: at(['training', 'device']),
      severity: 'error',
      code: 'paddleocr-mps',
      message: 'training.device: PaddlePaddle has no MPS backend; use cpu.',
      fix: { title: 'Train on the CPU', replacement: 'cpu' },
    });
  }
  if (training.precision === 'fp16' || training.precision === 'bf16') {
    findings.push({
      span: at(['training', 'precision']),
      severity: 'error',
      code: 'paddleocr-precision',
      message: `training.precision ${training.precision} is not supported for paddleocr yet; use auto (fp32).`,
      fix: { title: 'Use auto (fp32)', replacement: 'auto' },
    });
  }
  findings.push(...distributedProcesses(data, at));
  return findings;
}

/** More than one process (the trainer refuses the same; `auto` is left to it, since it decides what auto means for paddle). */
function distributedProcesses(data: Record<string, unknown>, at: At): Finding[] {
  if (!isPlainObject(data.distributed)) return [];
  const settings = data.distributed;
  const refuse = (key: 'nproc_per_node' | 'nnodes', what: string): Finding => ({
    span: at(['distributed', key]),
    severity: 'error',
    code: 'paddleocr-distributed',
    message: `${what}: data-parallel PaddleOCR training is not supported yet; use ${key}: 1.`,
    fix: { title: `Use ${key}: 1`, replacement: 1 },
  });
  const findings: Finding[] = [];
  const nproc = settings.nproc_per_node;
  if (typeof nproc === 'number' && nproc > 1) findings.push(refuse('nproc_per_node', `distributed.nproc_per_node is ${nproc}`));
  const nnodes = settings.nnodes;
  if (typeof nnodes === 'number' && nnodes > 1) findings.push(refuse('nnodes', `distributed.nnodes is ${nnodes}`));
  return findings;
}
