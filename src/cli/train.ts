// `vin-ocr train CONFIG …`: validates the config, then runs the bundled trainer in its own process
// group, exactly as "VIN OCR: Train" does, for terminals and CI. Ctrl+C cancels the whole tree.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { validateBytes } from '../core/config/validate';
import { resolveInterpreter } from '../core/interpreter/resolve';
import type { RunFinishedEvent } from '../core/trainer/events';
import { launchTrainer } from '../core/trainer/launch';
import { trainArgs, type DeviceChoice } from '../core/trainer/trainer-args';
import { findTrainerDir } from './doctor';

export const TRAIN_USAGE = `Usage: vin-ocr train CONFIG [--python PATH] [--max-steps N] [--max-minutes M] [--resume RUN] [--device auto|cuda|mps|cpu] [--json]

  CONFIG          a training config (e.g. examples/baseline.yaml); it is validated first
  --python PATH   the trainer's interpreter (default: ./.venv, then python3/python on PATH)
  --json          print the trainer's events (JSON Lines) on stdout instead of its log
Exit status: 0 completed, 1 failed or invalid config, 2 usage error, 130 cancelled.
`;

const DEVICES = new Set<DeviceChoice>(['auto', 'cuda', 'mps', 'cpu']);

interface TrainCliOptions {
  config: string;
  python?: string;
  json: boolean;
  device?: DeviceChoice;
  maxSteps?: number;
  maxMinutes?: number;
  resume?: string;
}

function positiveNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number, not "${text}"`);
  return value;
}

function parseTrainArgs(args: string[]): TrainCliOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    options: {
      python: { type: 'string' },
      json: { type: 'boolean', default: false },
      device: { type: 'string' },
      'max-steps': { type: 'string' },
      'max-minutes': { type: 'string' },
      resume: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new Error(positionals.length === 0 ? 'no config given' : 'give exactly one config');
  if (values.device !== undefined && !DEVICES.has(values.device as DeviceChoice)) throw new Error(`--device must be auto, cuda, mps or cpu, not "${values.device}"`);
  const maxSteps = positiveNumber(values['max-steps'], '--max-steps');
  if (maxSteps !== undefined && !Number.isInteger(maxSteps)) throw new Error('--max-steps needs a whole number');
  return {
    config: positionals[0]!,
    python: values.python,
    json: values.json,
    device: values.device as DeviceChoice | undefined,
    maxSteps,
    maxMinutes: positiveNumber(values['max-minutes'], '--max-minutes'),
    resume: values.resume,
  };
}

/** Errors block the run, as in the editor; warnings are shown and the run goes on. */
async function configIsValid(config: string): Promise<boolean> {
  const problems = validateBytes(await readFile(config), { file: config, workspaceRoot: process.cwd(), fileExists: existsSync, reportUnrecognised: true });
  for (const problem of problems) {
    process.stderr.write(`${problem.file}:${problem.line}:${problem.column} ${problem.severity} ${problem.code} ${problem.message}\n`);
  }
  return !problems.some((problem) => problem.severity === 'error');
}

function describeFinish(event: RunFinishedEvent): string {
  const parts = [`run ${event.status}`];
  if (event.best_checkpoint) parts.push(`best checkpoint: ${event.best_checkpoint}`);
  if (event.error_code) parts.push(`${event.error_code}: ${event.message ?? ''}${event.hint ? ` — ${event.hint}` : ''}`);
  for (const issue of event.issues ?? []) parts.push(issue);
  return parts.join('\n  ');
}

export async function runTrain(args: string[]): Promise<number> {
  let options: TrainCliOptions | 'help';
  try {
    options = parseTrainArgs(args);
  } catch (error) {
    process.stderr.write(`vin-ocr train: ${error instanceof Error ? error.message : String(error)}\n\n${TRAIN_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(TRAIN_USAGE);
    return 0;
  }
  if (!existsSync(options.config)) {
    process.stderr.write(`vin-ocr train: ${options.config} does not exist\n`);
    return 2;
  }
  if (!(await configIsValid(options.config))) {
    process.stderr.write('vin-ocr train: the config has errors (above); nothing was started.\n');
    return 1;
  }
  const interpreter = await resolveInterpreter({ setting: options.python, workspaceFolders: [process.cwd()] });
  if (!interpreter) {
    process.stderr.write('vin-ocr train: no Python 3.9+ interpreter found; pass --python or run `npm run demo` once to create ./.venv\n');
    return 1;
  }
  const configPath = path.resolve(options.config);
  let finished: RunFinishedEvent | undefined;
  const trainer = launchTrainer({
    python: interpreter.path,
    trainerDir: findTrainerDir(),
    args: trainArgs(configPath, { device: options.device, maxSteps: options.maxSteps, maxMinutes: options.maxMinutes, resumeFrom: options.resume }),
    onEvent: (event, raw) => {
      if (event.type === 'run_finished') finished = event;
      // Relay the trainer's own events (schemas/trainer-events.schema.json), not our reading of them.
      if (options.json && event.type !== 'unknown') process.stdout.write(JSON.stringify(raw) + '\n');
    },
    onLog: (line) => process.stderr.write(line + '\n'),
  });
  // The trainer leads its own process group, so a terminal's Ctrl+C reaches only us: pass it on as a cancel.
  let cancelling = false;
  const cancel = () => {
    if (cancelling) return;
    cancelling = true;
    process.stderr.write('vin-ocr train: cancelling (the trainer writes a checkpoint first)…\n');
    void trainer.stop();
  };
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  try {
    const exit = await trainer.exited;
    if (exit.spawnError) {
      process.stderr.write(`vin-ocr train: ${exit.spawnError}\n`);
      return 1;
    }
    if (finished) process.stderr.write(`vin-ocr train: ${describeFinish(finished)}\n`);
    else process.stderr.write(`vin-ocr train: the trainer stopped without a final event (exit ${exit.exitCode ?? exit.signal}); see its log above\n`);
    if (finished?.status === 'completed') return 0;
    return finished?.status === 'cancelled' || cancelling ? 130 : 1;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}
