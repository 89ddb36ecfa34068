// `vin-ocr cloud plan` and "Train on Cloud…": a training config and an instance in, a SkyPilot task out.
// Every mistake is ours to say (file:line for the config, the known instances for a typo) before SkyPilot
// sees anything; the task is then staged (workdir + task.yaml) in a temporary folder ready for `sky launch`.

import { existsSync, statSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { validateBytes } from '../config/validate';
import type { Problem } from '../config/problem';
import { findModel, installCommands, withTrainerPaths } from '../hardware/requirements';
import { isTrainingConfigData } from '../trainer/training-config';
import { clusterNameFor, newCloudRunId } from './cloud-run';
import { DATASET_KEYS, isLocalModelPath, planDatasets, type DatasetEntry, type PathKind } from './datasets';
import { stageWorkdir } from './stage';
import { resolveCloudTarget, targetFacts } from './targets';
import { runScript, setupScript, skyTaskYaml } from './task';
import type { CloudPlan, CloudPlanRequest, CloudPlanResult, CloudProblem, CloudTarget } from './types';

/** The trainer's output_dir on the nodes: every run is a sub-folder named by the trainer (its run_started event). */
export const REMOTE_RUNS_DIR = '~/vin-ocr-runs';
export const DEFAULT_AUTOSTOP_MINUTES = 30;
export const MAX_NODES = 64;
/** SkyPilot accepts more, but every cloud's own name limits are met by this. */
const CLUSTER_NAME = /^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$/;

/**
 * The trainer's own requirement files per family, installed after the family's install commands from
 * data/requirements.json: for LFM2.5-VL the libraries those leave out (peft, accelerate, safetensors); for DeepSeek-OCR
 * its pinned environment again (the same pins as its install lines), so nothing after them moves a version.
 */
const FAMILY_TRAINER_REQUIREMENTS: Readonly<Record<string, string>> = {
  'lfm2-vl': 'requirements-hf.txt',
  'deepseek-ocr': 'requirements-deepseek.txt',
};

interface ParsedConfig {
  document: Document;
  data: Record<string, unknown>;
  lineOf(path: readonly string[]): number | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function pathKind(path: string): PathKind {
  try {
    const stat = statSync(path);
    return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

function requestProblems(request: CloudPlanRequest): CloudProblem[] {
  const problems: CloudProblem[] = [];
  const nodes = request.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    problems.push({
      code: 'bad-nodes',
      message: `The number of nodes must be a whole number from 1 to ${MAX_NODES}, not ${String(request.nodes)}.`,
      fix: 'Pass --nodes 1 for one machine, or more for torchrun across machines (each with the instance’s GPUs).',
    });
  }
  const autostop = request.autostopMinutes ?? DEFAULT_AUTOSTOP_MINUTES;
  if (!Number.isInteger(autostop) || autostop < 0) {
    problems.push({
      code: 'bad-autostop',
      message: `Autostop must be a whole number of idle minutes (0 turns it off), not ${String(request.autostopMinutes)}.`,
      fix: `Pass --autostop ${DEFAULT_AUTOSTOP_MINUTES}, or --autostop 0 to keep the cluster up until \`sky down\`.`,
    });
  }
  if (request.clusterName !== undefined && !CLUSTER_NAME.test(request.clusterName)) {
    problems.push({
      code: 'bad-cluster-name',
      message: `"${request.clusterName}" is not a cluster name SkyPilot accepts on every cloud.`,
      fix: 'Use up to 50 lower-case letters, digits and dashes, starting with a letter, e.g. vin-ocr-test.',
    });
  }
  return problems;
}

function validatorProblem(problem: Problem): CloudProblem {
  return {
    code: problem.code,
    message: problem.message,
    fix: problem.fix
      ? `${problem.fix.title} (line ${problem.line})`
      : `Correct the config, then check it with \`vin-ocr validate ${problem.file}\`.`,
    file: problem.file,
    line: problem.line,
  };
}

function parseConfig(text: string): ParsedConfig | undefined {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const data: unknown = document.toJS({ maxAliasCount: 100 });
  if (document.errors.length || !isRecord(data)) return undefined;
  return {
    document,
    data,
    lineOf: (path) => {
      const node = document.getIn(path, true) as { range?: [number, number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    },
  };
}

function datasetEntries(config: ParsedConfig): DatasetEntry[] {
  const data = isRecord(config.data.data) ? config.data.data : {};
  return DATASET_KEYS.flatMap((key) => {
    const value = data[key];
    return typeof value === 'string' ? [{ key, value, line: config.lineOf(['data', key]) }] : [];
  });
}

function modelProblems(config: ParsedConfig, configPath: string): CloudProblem[] {
  const model = isRecord(config.data.model) ? config.data.model : {};
  if (model.type === 'paddleocr')
    return [
      {
        code: 'paddleocr-not-on-cloud',
        message: 'PaddleOCR runs train in your PaddleOCR clone with PaddlePaddle’s own environment; cloud runs do not stage either yet.',
        fix: 'Train it on this machine ("VIN OCR: Train"), or on a GPU machine of your own that has the clone and scripts/setup-paddle.sh.',
        file: configPath,
        line: config.lineOf(['model', 'type']),
      },
    ];
  if (typeof model.model_id !== 'string' || !isLocalModelPath(model.model_id)) return [];
  return [
    {
      code: 'local-model-path',
      message: `model.model_id "${model.model_id}" is a folder on this machine; the cloud nodes cannot see it.`,
      fix: 'Use a Hugging Face Hub id (e.g. LiquidAI/LFM2.5-VL-1.6B), or remove model_id to use the family default.',
      file: configPath,
      line: config.lineOf(['model', 'model_id']),
    },
  ];
}

/** The config the nodes train with: datasets at their mounts, runs in REMOTE_RUNS_DIR, comments kept. */
function remoteConfigText(config: ParsedConfig, rewritten: Partial<Record<string, string>>): string {
  for (const [key, value] of Object.entries(rewritten)) config.document.setIn(['data', key], value);
  config.document.set('output_dir', REMOTE_RUNS_DIR);
  const model = config.data.model;
  // An ONNX export next to the config would stay in the workdir; it belongs with the run that is copied back.
  if (isRecord(model) && typeof model.onnx_output === 'string' && !model.onnx_output.startsWith('/')) {
    config.document.setIn(['model', 'onnx_output'], `${REMOTE_RUNS_DIR}/${basename(model.onnx_output)}`);
  }
  return config.document.toString({ lineWidth: 0 });
}

function modelFamily(config: ParsedConfig): string {
  const model = isRecord(config.data.model) ? config.data.model : {};
  const type = typeof model.type === 'string' ? model.type : 'baseline';
  return findModel(type)?.family ?? type;
}

/** The family's CUDA install commands from data/requirements.json, runnable from the workdir, plus the trainer's own extras. */
export function cloudInstallCommands(family: string): string[] {
  const commands = installCommands(family, 'cuda').map((command) => withTrainerPaths(command, 'trainer'));
  const extra = FAMILY_TRAINER_REQUIREMENTS[family];
  return extra ? [...commands, `pip install -r trainer/${extra}`] : commands;
}

interface Checked {
  target: CloudTarget;
  config: ParsedConfig;
  warnings: CloudProblem[];
  fileMounts: Record<string, string>;
  rewritten: Partial<Record<string, string>>;
}

async function checkRequest(request: CloudPlanRequest): Promise<{ ok: true; checked: Checked } | { ok: false; problems: CloudProblem[] }> {
  const problems = requestProblems(request);
  const resolution = resolveCloudTarget(request.instance);
  if (!resolution.ok) problems.push(resolution.problem);
  if (!existsSync(join(request.trainerDir, 'vin_ocr', '__main__.py'))) {
    problems.push({
      code: 'trainer-missing',
      message: `The bundled trainer is not at ${request.trainerDir}.`,
      fix: 'Reinstall the extension, or run the CLI from the repository (it looks for trainer/ beside dist/).',
    });
  }
  if (!existsSync(request.configPath)) {
    problems.push({ code: 'config-missing', message: `${request.configPath} does not exist.`, fix: 'Give the path of a training config.' });
    return { ok: false, problems };
  }
  const bytes = await readFile(request.configPath);
  const facts = resolution.ok ? targetFacts(resolution.target) : undefined;
  // Datasets are checked below (buckets are no local files); the instance's own facts judge the model's fit.
  const found = validateBytes(bytes, { file: request.configPath, facts, reportUnrecognised: true });
  problems.push(...found.filter((problem) => problem.severity === 'error').map(validatorProblem));
  // The hardware rules speak of "this machine": here that is the instance.
  const onTarget = (problem: CloudProblem) =>
    resolution.ok ? { ...problem, message: `On ${resolution.target.id}: ${problem.message}` } : problem;
  const warnings = found.filter((problem) => problem.severity === 'warning').map((problem) => onTarget(validatorProblem(problem)));
  const config = parseConfig(bytes.toString('utf8'));
  if (!config || !isTrainingConfigData(config.data)) {
    if (!problems.some((problem) => problem.file)) {
      problems.push({
        code: 'not-a-training-config',
        message: `${request.configPath} is not a training config (it needs model.type, data and training).`,
        fix: 'Start from examples/baseline.yaml ("VIN OCR: Open Example Training Config").',
        file: request.configPath,
      });
    }
    return { ok: false, problems };
  }
  const datasets = planDatasets(datasetEntries(config), request.configPath, pathKind);
  problems.push(...datasets.problems, ...modelProblems(config, request.configPath));
  if (problems.length || !resolution.ok) return { ok: false, problems };
  return {
    ok: true,
    checked: { target: resolution.target, config, warnings, fileMounts: datasets.fileMounts, rewritten: datasets.rewritten },
  };
}

export async function planCloudRun(request: CloudPlanRequest): Promise<CloudPlanResult> {
  const result = await checkRequest(request);
  if (!result.ok) return result;
  const { target, config, warnings, fileMounts, rewritten } = result.checked;
  const nodes = request.nodes ?? 1;
  const spot = request.spot ?? false;
  const autostopMinutes = request.autostopMinutes ?? DEFAULT_AUTOSTOP_MINUTES;
  const family = modelFamily(config);
  const clusterName = request.clusterName ?? clusterNameFor(newCloudRunId(family));
  const configName = basename(request.configPath);
  const extra = FAMILY_TRAINER_REQUIREMENTS[family];
  const staged = await stageWorkdir({
    trainerDir: request.trainerDir,
    configName,
    configText: remoteConfigText(config, rewritten),
    trainerFiles: extra ? [extra] : [],
    stagingRoot: request.stagingRoot,
  });
  const taskYaml = skyTaskYaml({
    name: clusterName,
    target,
    nodes,
    spot,
    autostopMinutes,
    workdir: staged.workdir,
    fileMounts,
    setup: setupScript(cloudInstallCommands(family)),
    run: runScript(configName),
  });
  await writeFile(staged.taskFile, taskYaml);
  const plan: CloudPlan = {
    target,
    nodes,
    clusterName,
    autostopMinutes,
    taskYaml,
    workdir: staged.workdir,
    remoteRunDir: REMOTE_RUNS_DIR,
    fileMounts,
    spot,
    taskFile: staged.taskFile,
    stagingDir: staged.root,
    ...(warnings.length ? { warnings } : {}),
  };
  return { ok: true, plan };
}

/** Removes what planning staged (after `sky launch` has uploaded it, or when the launch is abandoned). */
export async function removeStaging(plan: CloudPlan): Promise<void> {
  if (plan.stagingDir) await rm(plan.stagingDir, { recursive: true, force: true });
}
