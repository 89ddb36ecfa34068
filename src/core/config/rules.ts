// Semantic rules: mistakes a schema cannot see, judged with the hardware policy of src/core/hardware so
// that the editor, the doctor and the trainer agree on what this machine can run.
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { attentionFor, evaluatePolicy } from '../hardware/policy';
import { findModel, type ModelRequirements } from '../hardware/requirements';
import type { DoctorReport, HardwareFacts } from '../hardware/types';
import type { Finding } from './finding';
import { isPlainObject, type ConfigKind } from './kinds';
import type { DataPath, SourceLocator } from './nodes';
import { displayPath } from './schema-check';
import { trainingConfigRules } from './training-rules';
import { checkCeiling, checkMinimum } from './versions';

export interface RuleContext {
  file: string;
  facts?: HardwareFacts;
  workspaceRoot?: string;
  fileExists?: (absolutePath: string) => boolean;
}

/** LFM2.5-VL is native in transformers from this release (the hardware guide's 4.40 is too old). */
export const LFM_MIN_TRANSFORMERS = '4.57.0';
/** The transformers releases DeepSeek-OCR's remote code imports with (data/requirements.json, its environment). */
export const DEEPSEEK_TRANSFORMERS = '>=4.46.3,<4.48';
/** The first release that cannot import it: 4.48 removed LlamaFlashAttention2, which modeling_deepseekv2.py imports. */
const DEEPSEEK_TRANSFORMERS_CEILING = '4.48';
const DEEPSEEK_ID = 'deepseek-ai/DeepSeek-OCR';
const LFM_ID = 'LiquidAI/LFM2.5-VL-1.6B';

interface Located<T> {
  value: T;
  path: DataPath;
}

export function checkRules(kind: ConfigKind, source: SourceLocator, data: unknown, context: RuleContext): Finding[] {
  if (!isPlainObject(data)) return [];
  const at = (path: DataPath, prefer: 'key' | 'value' = 'value') => source.span(path, prefer);
  const model = modelOf(kind, data);
  const findings: Finding[] = [];

  if (kind === 'model-profile') findings.push(...vramOrder(data, at));
  if (model?.requirements?.id === DEEPSEEK_ID) findings.push(...deepseekWithoutSdpa(kind, data, model, context, at));
  findings.push(...attentionThisMachineCannotRun(kind, data, model, context, at));
  if (kind === 'model-profile' && isLfmModel(model)) findings.push(...transformersTooOld(data, at));
  // Training configs name no package versions (schemas/training-config.schema.json): only model profiles can.
  if (kind === 'model-profile' && model?.requirements?.id === DEEPSEEK_ID) findings.push(...transformersTooNew(data, at));
  if (model) findings.push(...modelDoesNotFit(model, context, at));
  findings.push(...missingDatasets(kind, data, context, at));
  findings.push(...outputOutsideWorkspace(kind, data, context, at));
  if (kind === 'training-config') findings.push(...trainingConfigRules(data, context, at));
  return findings;
}

type At = (path: DataPath, prefer?: 'key' | 'value') => Finding['span'];

interface ModelReference extends Located<string> {
  requirements: ModelRequirements | undefined;
}

/** The model a config is about: profile `model_id`, trainer `model_id`/`trainer`, training `model.model_id`/`model.type`. */
function modelOf(kind: ConfigKind, data: Record<string, unknown>): ModelReference | undefined {
  const candidates: DataPath[] =
    kind === 'model-profile'
      ? [['model_id']]
      : kind === 'trainer-config'
        ? [['model_id'], ['trainer']]
        : [
            ['model', 'model_id'],
            ['model', 'type'],
          ];
  for (const path of candidates) {
    const value = valueAt(data, path);
    if (typeof value === 'string' && value.trim()) return { value, path, requirements: findModel(value) };
  }
  return undefined;
}

function isLfmModel(model: ModelReference | undefined): boolean {
  return model !== undefined && (model.requirements?.id === LFM_ID || /lfm2(\.5)?-vl/i.test(model.value));
}

function valueAt(data: unknown, path: DataPath): unknown {
  let current: unknown = data;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isPlainObject(current)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

/** Where a config names an attention implementation for this machine's training run. */
function requestedAttention(kind: ConfigKind, data: Record<string, unknown>): Located<string> | undefined {
  const path: DataPath | undefined =
    kind === 'model-profile'
      ? ['training', 'attn_implementation']
      : kind === 'training-config'
        ? ['model', 'attn_implementation']
        : undefined;
  const value = path ? valueAt(data, path) : undefined;
  return path && typeof value === 'string' ? { value, path } : undefined;
}

function vramOrder(data: Record<string, unknown>, at: At): Finding[] {
  const minimum = valueAt(data, ['hardware', 'min_vram_gb']);
  const recommended = valueAt(data, ['hardware', 'recommended_vram_gb']);
  if (typeof minimum !== 'number' || typeof recommended !== 'number' || recommended >= minimum) return [];
  return [
    {
      span: at(['hardware', 'recommended_vram_gb']),
      severity: 'warning',
      code: 'vram-order',
      message: `recommended_vram_gb (${recommended}) is below min_vram_gb (${minimum}); the recommendation should be at least the minimum.`,
      fix: { title: `Set recommended_vram_gb to ${minimum}`, replacement: minimum },
    },
  ];
}

function deepseekWithoutSdpa(
  kind: ConfigKind,
  data: Record<string, unknown>,
  model: ModelReference,
  context: RuleContext,
  at: At,
): Finding[] {
  const findings: Finding[] = [];
  const supportedSdpa = (platform: unknown): string => (platform === 'cuda' ? 'flash_attention_2' : 'eager');
  const places: Array<{ path: DataPath; replacement: string }> = [];
  const requested = requestedAttention(kind, data);
  if (requested?.value === 'sdpa') {
    places.push({
      path: requested.path,
      replacement: context.facts ? attentionFor(model.requirements!.id, context.facts).attention : 'eager',
    });
  }
  const supported = valueAt(data, ['hardware', 'supported']);
  if (kind === 'model-profile' && Array.isArray(supported)) {
    supported.forEach((entry, index) => {
      if (isPlainObject(entry) && entry.attn_implementation === 'sdpa') {
        places.push({ path: ['hardware', 'supported', index, 'attn_implementation'], replacement: supportedSdpa(entry.platform) });
      }
    });
  }
  for (const place of places) {
    findings.push({
      span: at(place.path),
      severity: 'error',
      code: 'deepseek-sdpa',
      message:
        'DeepSeek-OCR implements only flash_attention_2 and eager attention; sdpa fails when the model loads. ' +
        `Use ${place.replacement}.`,
      fix: { title: `Use ${place.replacement}`, replacement: place.replacement },
    });
  }
  return findings;
}

function attentionThisMachineCannotRun(
  kind: ConfigKind,
  data: Record<string, unknown>,
  model: ModelReference | undefined,
  context: RuleContext,
  at: At,
): Finding[] {
  const requested = requestedAttention(kind, data);
  if (!context.facts || requested?.value !== 'flash_attention_2') return [];
  if (model?.requirements && model.requirements.attention.length === 0) return [];
  const actual = attentionFor(model?.requirements?.id ?? model?.value ?? 'generic', context.facts);
  if (actual.attention === 'flash_attention_2') return [];
  // The policy explains its choice; without CUDA the first reason is simply that flash-attn needs it.
  const platform = reportFor(context.facts).platform;
  const why =
    platform === 'cuda'
      ? actual.reason
      : `flash-attn needs an NVIDIA GPU with CUDA, and this machine trains on ${platform === 'mps' ? 'MPS' : 'the CPU'}. ${actual.reason}`;
  return [
    {
      span: at(requested.path),
      severity: 'warning',
      code: 'attention-unavailable',
      message: `This machine cannot run flash_attention_2; ${actual.attention} would be used instead. ${why}`,
      fix: { title: `Use ${actual.attention} (what this machine runs)`, replacement: actual.attention },
    },
  ];
}

function transformersTooOld(data: Record<string, unknown>, at: At): Finding[] {
  const specifier = valueAt(data, ['requirements', 'transformers']);
  if (typeof specifier !== 'string') return [];
  const verdict = checkMinimum(specifier, LFM_MIN_TRANSFORMERS);
  if (!verdict.allowsTooOld) return [];
  const replacement = `>=${LFM_MIN_TRANSFORMERS}`;
  return [
    {
      span: at(['requirements', 'transformers']),
      severity: verdict.onlyTooOld ? 'error' : 'warning',
      code: 'transformers-too-old',
      message:
        `LFM2.5-VL needs transformers ${LFM_MIN_TRANSFORMERS} or newer; ` +
        `"${specifier}" ${verdict.onlyTooOld ? 'only' : 'also'} allows older releases, which cannot load the model.`,
      fix: { title: `Require transformers ${replacement}`, replacement },
    },
  ];
}

function transformersTooNew(data: Record<string, unknown>, at: At): Finding[] {
  const specifier = valueAt(data, ['requirements', 'transformers']);
  if (typeof specifier !== 'string') return [];
  const verdict = checkCeiling(specifier, DEEPSEEK_TRANSFORMERS_CEILING);
  if (!verdict.allowsTooNew) return [];
  return [
    {
      span: at(['requirements', 'transformers']),
      severity: verdict.onlyTooNew ? 'error' : 'warning',
      code: 'transformers-too-new',
      message:
        `DeepSeek-OCR's remote code cannot be imported with transformers ${DEEPSEEK_TRANSFORMERS_CEILING} or newer ` +
        `(LlamaFlashAttention2 was removed); it needs 4.46.3–4.47.x. "${specifier}" ` +
        `${verdict.onlyTooNew ? 'only allows' : 'also allows'} releases from ${DEEPSEEK_TRANSFORMERS_CEILING} on.`,
      fix: { title: `Require transformers ${DEEPSEEK_TRANSFORMERS}`, replacement: DEEPSEEK_TRANSFORMERS },
    },
  ];
}

// The policy judges every model and cloud instance; one evaluation per facts object is plenty.
const reports = new WeakMap<HardwareFacts, DoctorReport>();

function reportFor(facts: HardwareFacts): DoctorReport {
  let report = reports.get(facts);
  if (!report) {
    report = evaluatePolicy(facts);
    reports.set(facts, report);
  }
  return report;
}

function modelDoesNotFit(model: ModelReference, context: RuleContext, at: At): Finding[] {
  if (!context.facts || !model.requirements) return [];
  const verdict = reportFor(context.facts).models[model.requirements.id];
  if (!verdict || verdict.fit !== 'insufficient') return [];
  // The policy lists optimal instances first; three are enough to act on.
  const cloud = verdict.cloud ?? [];
  const shown = cloud
    .slice(0, 3)
    .map((entry) => `${entry.label} (${entry.fit})`)
    .join(', ');
  const more = cloud.length > 3 ? ` and ${cloud.length - 3} more` : '';
  const where = cloud.length ? ` It would fit on ${shown}${more}.` : '';
  return [
    {
      span: at(model.path),
      severity: 'warning',
      code: 'model-does-not-fit',
      message: `${model.requirements.label} does not fit this machine: ${verdict.reasons[0] ?? 'not enough memory'}${where}`,
    },
  ];
}

const PLACEHOLDER = /\{[a-z_]+\}/;

function datasetPaths(kind: ConfigKind, data: Record<string, unknown>): Array<Located<string>> {
  const paths: DataPath[] =
    kind === 'training-config'
      ? [
          ['data', 'train'],
          ['data', 'val'],
          ['data', 'test'],
        ]
      : kind === 'trainer-config'
        ? [['dataset_dir'], ['train_labels'], ['val_labels'], ['test_labels']]
        : [];
  return paths.flatMap((path) => {
    const value = valueAt(data, path);
    if (typeof value !== 'string' || !value.trim() || value === 'synthetic' || PLACEHOLDER.test(value)) return [];
    return [{ value, path }];
  });
}

function missingDatasets(kind: ConfigKind, data: Record<string, unknown>, context: RuleContext, at: At): Finding[] {
  if (!context.fileExists) return [];
  const configDir = dirname(resolve(context.file));
  const findings: Finding[] = [];
  for (const dataset of datasetPaths(kind, data)) {
    // Training configs resolve paths against their own folder (the contract); the existing project's
    // trainer configs are run from the project root, so for them either folder will do.
    const bases = kind === 'trainer-config' && context.workspaceRoot ? [configDir, context.workspaceRoot] : [configDir];
    const candidates = bases.map((base) => resolve(base, dataset.value));
    if (candidates.some((candidate) => context.fileExists!(candidate))) continue;
    findings.push({
      span: at(dataset.path),
      severity: 'error',
      code: 'dataset-missing',
      message: `${displayPath(dataset.path)}: "${dataset.value}" does not exist (looked for ${candidates.join(' and ')}).`,
    });
  }
  return findings;
}

function outputOutsideWorkspace(kind: ConfigKind, data: Record<string, unknown>, context: RuleContext, at: At): Finding[] {
  const output = data.output_dir;
  if (!context.workspaceRoot || kind === 'model-profile' || typeof output !== 'string' || !output.trim() || PLACEHOLDER.test(output))
    return [];
  const base = kind === 'training-config' ? dirname(resolve(context.file)) : context.workspaceRoot;
  const absolute = resolve(base, output);
  const inside = relative(resolve(context.workspaceRoot), absolute);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) return [];
  return [
    {
      span: at(['output_dir']),
      severity: 'info',
      code: 'output-outside-workspace',
      message: `output_dir resolves to ${absolute}, outside the workspace: runs written there will not show in the Runs view.`,
    },
  ];
}
