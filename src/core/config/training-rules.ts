// Rules of training configs that the trainer also enforces at start: where a baseline's weights
// come from (model.init_from; the shipped reader's shape comes from src/core/trainer/pretrained.ts),
// and whether the `distributed` section can run (trainer/vin_ocr/config.py has the same rules); the paddleocr
// family's own rules are in paddleocr-rules.ts.
import { dirname, resolve } from 'node:path';
import { isPaddleocrConfig } from '../trainer/paddleocr';
import { shippedReader } from '../trainer/pretrained';
import type { HardwareFacts } from '../hardware/types';
import type { Finding } from './finding';
import { isPlainObject } from './kinds';
import type { DataPath } from './nodes';
import { paddleocrRules } from './paddleocr-rules';
import { schemasAt } from './schemas';

export type At = (path: DataPath, prefer?: 'key' | 'value') => Finding['span'];

const SHAPE_KEYS = ['height', 'width', 'hidden_size'] as const;
const INIT_FROM: DataPath = ['model', 'init_from'];

export interface TrainingRuleContext {
  file: string;
  facts?: HardwareFacts;
  fileExists?: (absolutePath: string) => boolean;
}

export function trainingConfigRules(data: Record<string, unknown>, context: TrainingRuleContext, at: At): Finding[] {
  return [...initFromRules(data, context, at), ...distributedRules(data, context, at), ...paddleocrRules(data, context, at)];
}

function initFromRules(data: Record<string, unknown>, context: TrainingRuleContext, at: At): Finding[] {
  const model = isPlainObject(data.model) ? data.model : {};
  if ((model.type ?? 'baseline') !== 'baseline') return [];
  const initFrom = model.init_from;
  if (initFrom === 'pretrained') return shapeMismatch(model, at);
  if (typeof initFrom === 'string' && initFrom.trim() && initFrom !== 'none') return missingCheckpoint(initFrom, context, at);
  return [];
}

/** The model's value of a shape key, or the schema's default when the config leaves it out. */
function shapeValue(model: Record<string, unknown>, key: (typeof SHAPE_KEYS)[number]): unknown {
  return model[key] ?? schemasAt('training-config', ['model', key]).find((schema) => schema.default !== undefined)?.default;
}

function shapeMismatch(model: Record<string, unknown>, at: At): Finding[] {
  const shipped = shippedReader.model;
  const differences = SHAPE_KEYS.filter((key) => shapeValue(model, key) !== shipped[key]).map(
    (key) => `${key} ${shipped[key]} (this config: ${String(shapeValue(model, key))})`,
  );
  if (!differences.length) return [];
  return [
    {
      span: at(INIT_FROM),
      severity: 'error',
      code: 'init-shape-mismatch',
      message: `model.init_from: the shipped pretrained reader has ${differences.join(', ')}; use its shape, or init_from: none.`,
      fix: { title: 'Train from random weights (init_from: none)', replacement: 'none' },
    },
  ];
}

function missingCheckpoint(initFrom: string, context: TrainingRuleContext, at: At): Finding[] {
  if (!context.fileExists) return [];
  const absolute = resolve(dirname(resolve(context.file)), initFrom);
  if (context.fileExists(absolute)) return [];
  return [
    {
      span: at(INIT_FROM),
      severity: 'error',
      code: 'init-checkpoint-missing',
      message: `model.init_from: "${initFrom}" does not exist (looked for ${absolute}); use a .pt file, a run folder, pretrained or none.`,
    },
  ];
}

function cudaGpus(facts: HardwareFacts | undefined): number | undefined {
  return facts ? facts.gpus.filter((gpu) => gpu.vendor === 'NVIDIA').length : undefined;
}

/** Several processes, several machines, nccl: what torchrun would refuse, or hang on, said before the run. */
function distributedRules(data: Record<string, unknown>, context: TrainingRuleContext, at: At): Finding[] {
  // PaddleOCR trains in one process without torchrun: paddleocr-rules.ts says so instead.
  if (!isPlainObject(data.distributed) || isPaddleocrConfig(data)) return [];
  const settings = data.distributed;
  const training = isPlainObject(data.training) ? data.training : {};
  const device = typeof training.device === 'string' ? training.device : 'auto';
  const gpus = cudaGpus(context.facts);
  const findings: Finding[] = [];
  const error = (key: string, code: Finding['code'], message: string): void => {
    findings.push({ span: at(['distributed', key]), severity: 'error', code, message });
  };
  const nnodes = typeof settings.nnodes === 'number' ? settings.nnodes : 1;
  if (nnodes > 1 && (typeof settings.rdzv_endpoint !== 'string' || !settings.rdzv_endpoint.trim())) {
    error('nnodes', 'distributed-no-endpoint', `${nnodes} nodes need distributed.rdzv_endpoint: HOST:PORT of the node that hosts rank 0.`);
  }
  const noCuda = device === 'cpu' || device === 'mps' || (device === 'auto' && gpus === 0);
  if (settings.backend === 'nccl' && noCuda) {
    const why = device === 'auto' ? 'this machine has no CUDA GPU' : `training.device is ${device}`;
    error('backend', 'distributed-nccl-without-cuda', `nccl needs CUDA, but ${why}; use gloo or auto.`);
  }
  const nproc = settings.nproc_per_node;
  const onCuda = device === 'cuda' || (device === 'auto' && (gpus ?? 0) > 0);
  if (typeof nproc === 'number' && gpus !== undefined && onCuda && nproc > gpus) {
    const fix = gpus ? `use at most ${gpus}, or auto` : 'set training.device: cpu to run them on the CPU';
    error(
      'nproc_per_node',
      'distributed-too-many-processes',
      `${nproc} processes, but this machine has ${gpus} CUDA GPU(s) and each process needs its own; ${fix}.`,
    );
  }
  return findings;
}
