// Typed view of data/requirements.json: the per-model requirements, install commands and
// cloud instances. They are data (one file shared with the trainer), so this module only checks
// the file's shape once and answers questions about it.
import rawRequirements from '../../../data/requirements.json';
import type { Attention, DoctorReport, HardwareFacts, Platform } from './types';

/** Memory thresholds in decimal GB on one platform; a missing threshold means "never that fit". */
export interface PlatformThresholds {
  optimal_gb?: number;
  minimum_gb?: number;
}

export interface ModelRequirements {
  id: string;
  label: string;
  aliases: string[];
  /** Models of one family share an environment; different families need their own. */
  family: string;
  /** Attention implementations the model supports; empty for models that have no transformers attention. */
  attention: Attention[];
  /** Platforms the model can run on; an absent platform is unsupported (PaddleOCR has no MPS). */
  fit: Partial<Record<Platform, PlatformThresholds>>;
  install: Record<Platform, string[]>;
  notes: string[];
  /** A family that needs an environment of its own (DeepSeek-OCR): what scripts/setup-deepseek.sh installs. */
  environment?: ModelEnvironment;
}

/** A model family's own environment, as measured on its code. */
export interface ModelEnvironment {
  /** The transformers releases its code imports with, as a pip specifier (">=4.46.3,<4.48"). */
  transformers: string;
  /** pip requirements of the environment, pinned where it matters. */
  pip: string[];
  /** What the trainer's test suite needs on top of `pip`. */
  tests?: string[];
}

/** How SkyPilot asks for an instance: its `resources` (cloud, instance_type, accelerators) in a task file. */
export interface SkyResources {
  cloud: 'aws' | 'gcp' | 'azure';
  instance_type: string;
  /** SkyPilot's accelerator spec ("A10G:1"); absent where the instance type implies it (Azure's fractional A10). */
  accelerators?: string;
}

export interface CloudInstance {
  id: string;
  provider: string;
  label: string;
  gpu: string;
  use: string;
  sky: SkyResources;
  /** A hypothetical machine: evaluated through the same policy as the real one. */
  facts: HardwareFacts;
}

/** The SkyPilot release the cloud launcher is written against, installed in its own environment. */
export interface SkyPilotPin {
  /** pip's requirement, e.g. "skypilot==0.14.1". */
  pip: string;
}

const PLATFORMS: readonly Platform[] = ['cuda', 'mps', 'cpu'];
const SKY_CLOUDS: readonly string[] = ['aws', 'gcp', 'azure'];
const ATTENTIONS: readonly Attention[] = ['flash_attention_2', 'sdpa', 'eager'];

function fail(where: string, what: string): never {
  throw new Error(`data/requirements.json: ${where}: ${what}`);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

// The file ships with the extension, so a shape error is a packaging bug: fail loudly at load time.
export function checkModel(value: unknown, index: number): ModelRequirements {
  const where = `models[${index}]`;
  if (typeof value !== 'object' || value === null) fail(where, 'not an object');
  const model = value as Record<string, unknown>;
  for (const key of ['id', 'label', 'family'] as const) {
    if (typeof model[key] !== 'string') fail(where, `"${key}" must be a string`);
  }
  if (!isStringArray(model.aliases) || !isStringArray(model.notes)) fail(where, '"aliases" and "notes" must be string arrays');
  if (!isStringArray(model.attention) || !model.attention.every((name) => ATTENTIONS.includes(name as Attention))) {
    fail(where, `"attention" may only list ${ATTENTIONS.join(', ')}`);
  }
  const fit = model.fit as Record<string, PlatformThresholds> | undefined;
  if (typeof fit !== 'object' || fit === null) fail(where, '"fit" must be an object');
  for (const [platform, thresholds] of Object.entries(fit)) {
    if (!PLATFORMS.includes(platform as Platform)) fail(where, `unknown platform "${platform}" in "fit"`);
    for (const threshold of [thresholds.optimal_gb, thresholds.minimum_gb]) {
      if (threshold !== undefined && (typeof threshold !== 'number' || threshold < 0))
        fail(where, 'thresholds must be non-negative numbers');
    }
  }
  const install = model.install as Record<string, unknown> | undefined;
  if (typeof install !== 'object' || install === null || !PLATFORMS.every((platform) => isStringArray(install[platform]))) {
    fail(where, '"install" needs a command list for cuda, mps and cpu');
  }
  if (model.environment !== undefined) checkEnvironment(model.environment, `${where}.environment`);
  return model as unknown as ModelRequirements;
}

/** A pip requirement: a distribution name, optionally with a version specifier (no URLs, options or markers). */
const SPECIFIER = String.raw`(===|==|~=|!=|>=|<=|>|<)\s*[\w.*+!-]+`;
const PIP_REQUIREMENT = new RegExp(String.raw`^[A-Za-z0-9][\w.-]*(\s*${SPECIFIER}(\s*,\s*${SPECIFIER})*)?$`);

function checkEnvironment(value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'not an object');
  const environment = value as Record<string, unknown>;
  if (typeof environment.transformers !== 'string' || !/^\s*(===|==|~=|!=|>=|<=|>|<)/.test(environment.transformers)) {
    fail(where, '"transformers" must be a pip version specifier such as ">=4.46.3,<4.48"');
  }
  for (const key of ['pip', 'tests'] as const) {
    const list = environment[key];
    if (key === 'tests' && list === undefined) continue;
    if (!isStringArray(list) || (key === 'pip' && list.length === 0)) fail(where, `"${key}" must be a list of pip requirements`);
    const odd = list.find((requirement) => !PIP_REQUIREMENT.test(requirement));
    if (odd !== undefined) fail(where, `"${key}" holds "${odd}", which is not a plain pip requirement ("name==1.2.3")`);
  }
}

function checkCloudInstance(value: unknown, index: number): CloudInstance {
  const where = `cloudInstances[${index}]`;
  if (typeof value !== 'object' || value === null) fail(where, 'not an object');
  const instance = value as Record<string, unknown>;
  for (const key of ['id', 'provider', 'label', 'gpu', 'use'] as const) {
    if (typeof instance[key] !== 'string') fail(where, `"${key}" must be a string`);
  }
  const facts = instance.facts as Record<string, unknown> | undefined;
  if (typeof facts !== 'object' || facts === null || !Array.isArray(facts.gpus) || typeof facts.ram_bytes !== 'number') {
    fail(where, '"facts" must be a hardware-facts object');
  }
  const sky = instance.sky as Record<string, unknown> | undefined;
  if (typeof sky !== 'object' || sky === null || !SKY_CLOUDS.includes(sky.cloud as string) || typeof sky.instance_type !== 'string') {
    fail(where, `"sky" needs "cloud" (${SKY_CLOUDS.join(', ')}) and "instance_type"`);
  }
  if (sky.accelerators !== undefined && (typeof sky.accelerators !== 'string' || !/^[\w-]+:\d+$/.test(sky.accelerators))) {
    fail(where, '"sky.accelerators" must look like "A10G:1"');
  }
  return instance as unknown as CloudInstance;
}

function checkSkyPilotPin(value: unknown): SkyPilotPin {
  const pin = value as Record<string, unknown> | undefined;
  if (typeof pin !== 'object' || pin === null || typeof pin.pip !== 'string' || !/^skypilot==[\w.]+$/.test(pin.pip)) {
    fail('skypilot', '"pip" must be a pinned requirement such as "skypilot==0.14.1"');
  }
  return { pip: pin.pip };
}

const file = rawRequirements as { models?: unknown; cloudInstances?: unknown; skypilot?: unknown };
if (!Array.isArray(file.models) || !Array.isArray(file.cloudInstances)) fail('top level', 'needs "models" and "cloudInstances" arrays');

export const requirements: readonly ModelRequirements[] = file.models.map(checkModel);
export const cloudInstances: readonly CloudInstance[] = file.cloudInstances.map(checkCloudInstance);
export const skypilotPin: SkyPilotPin = checkSkyPilotPin(file.skypilot);

/** The model whose id or alias matches, ignoring case (config files say "deepseek-ocr", reports say the hub id). */
export function findModel(idOrAlias: string): ModelRequirements | undefined {
  const wanted = idOrAlias.trim().toLowerCase();
  return requirements.find((model) => model.id.toLowerCase() === wanted || model.aliases.some((alias) => alias.toLowerCase() === wanted));
}

/** The install commands for a model on a platform (a fresh copy), or [] for an unknown model. */
export function installCommands(model: string, platform: Platform): string[] {
  return [...(findModel(model)?.install[platform] ?? [])];
}

export function findCloudInstance(id: string): CloudInstance | undefined {
  const wanted = id.trim().toLowerCase();
  return cloudInstances.find((instance) => instance.id.toLowerCase() === wanted);
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The seed writes the flash-attn stub as "./stubs/…" relative to the trainer; make it a path that works from anywhere. */
export function withTrainerPaths(command: string, trainerDir: string): string {
  return command.replace(
    /(^|\s)\.\/stubs\/(\S+)/g,
    (_match, space: string, rest: string) => `${space}${shellWord(`${trainerDir}/stubs/${rest}`)}`,
  );
}

/** The report with every fix made runnable from anywhere (the bundled trainer's absolute paths). */
export function withTrainerPathsInReport(report: DoctorReport, trainerDir: string): DoctorReport {
  return { ...report, warnings: report.warnings.map((warning) => ({ ...warning, fix: withTrainerPaths(warning.fix, trainerDir) })) };
}

/** Characters that mean something to a shell beyond words and quotes: an install line using them is not run. */
const SHELL_OPERATORS = new Set([';', '&', '|', '<', '>', '`', '$', '(', ')', '\n', '\r']);

/**
 * The words of a command line as a POSIX shell would split them (single and double quotes, backslash escapes),
 * without running a shell. Lines that would need one (operators, redirections, expansions, an open quote) throw.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  const refuse = (what: string): never => {
    throw new Error(`install command needs a shell (${what}), which is never used: ${line}`);
  };
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '$' || char === '`') refuse(`"${char}" inside double quotes`);
      else if (char === '\\' && /["\\]/.test(line[index + 1] ?? '')) word += line[++index];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= '';
    } else if (char === '\\') {
      if (index + 1 >= line.length) refuse('a trailing backslash');
      word = (word ?? '') + line[++index];
    } else if (/\s/.test(char) && char !== '\n' && char !== '\r') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (SHELL_OPERATORS.has(char)) {
      refuse(`"${char.trim() || 'a line break'}"`);
    } else word = (word ?? '') + char;
  }
  if (quote) refuse('an unclosed quote');
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * An install line of data/requirements.json (`pip install paddlepaddle-gpu==3.0.0 -i https://…`) as the arguments
 * of the environment's own interpreter: `['-m', 'pip', 'install', 'paddlepaddle-gpu==3.0.0', '-i', 'https://…']`.
 * Only `pip`/`pip3 install …` and `python`/`python3 -m pip install …` lines are accepted; anything else throws.
 */
export function pipInstallArgs(line: string): string[] {
  const words = splitCommandLine(line.trim());
  const rest = /^pip3?$/.test(words[0] ?? '')
    ? words.slice(1)
    : /^python3?$/.test(words[0] ?? '') && words[1] === '-m' && words[2] === 'pip'
      ? words.slice(3)
      : undefined;
  if (!rest || rest[0] !== 'install' || rest.length < 2) throw new Error(`not a pip install command: ${line}`);
  return ['-m', 'pip', ...rest];
}
