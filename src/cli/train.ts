// `vin-ocr train CONFIG …`: validates the config, then runs the bundled trainer through the same
// launcher and crash classification as "VIN OCR: Train", for terminals, CI and the `vin-ocr` VS Code
// tasks. Ctrl+C (or the terminal closing) cancels the whole tree; the trainer writes a checkpoint first.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { validateBytes } from '../core/config/validate';
import { resolveInterpreter } from '../core/interpreter/resolve';
import { fallbackHint } from '../core/trainer/error-codes';
import type { RunFinishedEvent, TrainerEvent } from '../core/trainer/events';
import { classifyUnreportedExit, describeFailure, LineTail } from '../core/trainer/failure';
import { startTrainer, type TrainerExit } from '../core/trainer/launch';
import type { TrainerLauncher } from '../core/trainer/launcher';
import { createLocalLauncher } from '../core/trainer/local-launcher';
import { budgetPercent, progressMessage } from '../core/trainer/progress';
import { applyEvent, emptyRunState, type RunState } from '../core/trainer/run-state';
import { trainArgs, type DeviceChoice } from '../core/trainer/trainer-args';
import {
  DEEPSEEK_ENVIRONMENT_INFO,
  modelTypeOf,
  PADDLE_ENVIRONMENT_INFO,
  trainerEnvironmentOf,
  type FamilyEnvironment,
} from '../core/trainer/family-environments';
import { LOCAL_PADDLE_ENVIRONMENT, PADDLE_ENVIRONMENT } from '../core/trainer/paddleocr';
import { parseConfigData } from '../core/trainer/training-config';
import { findTrainerDir } from './doctor';
import { cliFamilyPython } from './storage';

export const TRAIN_USAGE = `Usage: vin-ocr train CONFIG [--python PATH] [--max-steps N] [--max-minutes M] [--resume RUN]
                     [--device auto|cuda|mps|cpu] [--paddle-python PATH] [--deepseek-python PATH] [--json]

  CONFIG          a training config (e.g. examples/baseline.yaml); it is validated first
  --python PATH   the trainer's interpreter (default: ./.venv, then python3/python on PATH)
  --paddle-python PATH
                  model.type paddleocr: the PaddleOCR environment's interpreter (default: $VIN_OCR_PADDLE_PYTHON,
                  then ./${LOCAL_PADDLE_ENVIRONMENT}, then ${PADDLE_ENVIRONMENT}/ in the vin-ocr data folder, then the trainer's own)
  --deepseek-python PATH
                  model.type deepseek-ocr: the trainer runs with DeepSeek-OCR's own environment (transformers 4.46.x)
                  (default: ./${DEEPSEEK_ENVIRONMENT_INFO.localFolder} from ${DEEPSEEK_ENVIRONMENT_INFO.setUpScript}, then
                  ${DEEPSEEK_ENVIRONMENT_INFO.storageFolder}/ in the vin-ocr data folder)
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
  paddlePython?: string;
  deepseekPython?: string;
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
      'paddle-python': { type: 'string' },
      'deepseek-python': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new Error(positionals.length === 0 ? 'no config given' : 'give exactly one config');
  if (values.device !== undefined && !DEVICES.has(values.device as DeviceChoice))
    throw new Error(`--device must be auto, cuda, mps or cpu, not "${values.device}"`);
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
    paddlePython: values['paddle-python'],
    deepseekPython: values['deepseek-python'],
  };
}

/** Errors block the run, as in the editor; warnings are shown and the run goes on. */
async function configIsValid(config: string): Promise<boolean> {
  const problems = validateBytes(await readFile(config), {
    file: config,
    workspaceRoot: process.cwd(),
    fileExists: existsSync,
    reportUnrecognised: true,
  });
  for (const problem of problems) {
    process.stderr.write(`${problem.file}:${problem.line}:${problem.column} ${problem.severity} ${problem.code} ${problem.message}\n`);
  }
  return !problems.some((problem) => problem.severity === 'error');
}

function describeFinish(event: RunFinishedEvent): string {
  const parts = [`run ${event.status}`];
  if (event.best_checkpoint) parts.push(`best checkpoint: ${event.best_checkpoint}`);
  const hint = event.hint ?? fallbackHint(event.error_code);
  if (event.error_code) parts.push(`${event.error_code}: ${event.message ?? ''}${hint ? ` — ${hint}` : ''}`);
  for (const issue of event.issues ?? []) parts.push(issue);
  return parts.join('\n  ');
}

const write = (line: string) => process.stderr.write(`${line}\n`);

/** A progress line at most this often; the trainer's own log has a line a second. */
const PROGRESS_LINE_INTERVAL_MS = 5000;

/**
 * Reports progress against the binding budget (`42% · 4:12 of 10:00`), since the trainer's own
 * line counts steps even when the time budget ends the run: once per new whole percent, at most
 * every few seconds.
 */
export class ProgressReporter {
  private readonly state: RunState = emptyRunState('running');
  private lastPercent = -1;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly print: (line: string) => void) {}

  onEvent(event: TrainerEvent, now = Date.now()): void {
    applyEvent(this.state, event, now);
    if (event.type !== 'progress') return;
    const percent = budgetPercent(this.state, now);
    if (percent === undefined || percent === this.lastPercent) return;
    if (now - this.lastAt < PROGRESS_LINE_INTERVAL_MS && percent !== 100) return;
    this.lastPercent = percent;
    this.lastAt = now;
    this.print(`vin-ocr train: ${progressMessage(this.state, now)}`);
  }
}

/** What the CLI says when the trainer is gone; returns the exit status. */
function reportEnd(
  exit: TrainerExit,
  finished: RunFinishedEvent | undefined,
  tail: readonly string[],
  python: string,
  cancelling: boolean,
): number {
  if (finished) {
    write(`vin-ocr train: ${describeFinish(finished)}`);
    if (finished.status === 'completed') return 0;
    return finished.status === 'cancelled' ? 130 : 1;
  }
  if (cancelling && !exit.spawnError) {
    write('vin-ocr train: cancelled before the trainer reported an outcome');
    return 130;
  }
  // The same reading of a silent exit as the editor's: no interpreter, a missing module, or a crash.
  write(`vin-ocr train: ${describeFailure(classifyUnreportedExit(exit, tail, python))}`);
  if (!exit.spawnError) write("vin-ocr train: see the trainer's log above");
  return 1;
}

/** A terminal that closes (a VS Code task's, an SSH session) must not orphan the trainer: it is cancelled like Ctrl+C. */
const CANCEL_SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

export async function runTrain(args: string[], launcher?: TrainerLauncher): Promise<number> {
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
    write(`vin-ocr train: ${options.config} does not exist`);
    return 2;
  }
  if (!(await configIsValid(options.config))) {
    write('vin-ocr train: the config has errors (above); nothing was started.');
    return 1;
  }
  const python = await trainerPython(options);
  if (!python) return 1;
  const paddlePython = cliFamilyPython(PADDLE_ENVIRONMENT_INFO, options.paddlePython);
  return train(options, python, launcher ?? createLocalLauncher({ trainerDir: findTrainerDir(), paddlePython: () => paddlePython }));
}

/**
 * The trainer's interpreter: for a family whose trainer runs in its own environment (DeepSeek-OCR), that environment
 * (its flag, then the ones found; never the trainer's usual one, which cannot import its code); for every other family
 * `--python`, ./.venv, then PATH.
 */
async function trainerPython(options: TrainCliOptions): Promise<string | undefined> {
  const environment = trainerEnvironmentOf(modelTypeOf(parseConfigData(await readFile(options.config, 'utf8'))));
  if (environment) {
    const own = cliFamilyPython(environment, familyFlag(options, environment));
    if (own) return own;
    write(
      `vin-ocr train: ${environment.label} trains in an environment of its own and none was found: run ${environment.setUpScript} ` +
        `(it creates ./${environment.localFolder}), or pass ${environment.cliFlag} PATH; in VS Code, "VIN OCR: ${environment.setUpTitle}".`,
    );
    return undefined;
  }
  const interpreter = await resolveInterpreter({ setting: options.python, workspaceFolders: [process.cwd()] });
  if (!interpreter) write('vin-ocr train: no Python 3.9+ interpreter found; pass --python or run `npm run demo` once to create ./.venv');
  return interpreter?.path;
}

function familyFlag(options: TrainCliOptions, environment: FamilyEnvironment): string | undefined {
  return environment.id === 'deepseek-ocr' ? options.deepseekPython : options.paddlePython;
}

async function train(options: TrainCliOptions, python: string, launcher: TrainerLauncher): Promise<number> {
  const configPath = path.resolve(options.config);
  const tail = new LineTail();
  const progress = new ProgressReporter(write);
  let finished: RunFinishedEvent | undefined;
  const runOptions = { device: options.device, maxSteps: options.maxSteps, maxMinutes: options.maxMinutes, resumeFrom: options.resume };
  const trainer = startTrainer(launcher, {
    python,
    args: trainArgs(configPath, runOptions),
    onEvent: (event, raw) => {
      if (event.type === 'run_finished') finished = event;
      progress.onEvent(event);
      // Relay the trainer's own events (schemas/trainer-events.schema.json), not our reading of them.
      if (options.json && event.type !== 'unknown') process.stdout.write(JSON.stringify(raw) + '\n');
    },
    onLog: (line) => {
      tail.push(line);
      write(line);
    },
  });
  // The trainer leads its own process group, so a terminal's Ctrl+C reaches only us: pass it on as a cancel.
  let cancelling = false;
  const cancel = () => {
    if (cancelling) return;
    cancelling = true;
    write('vin-ocr train: cancelling (the trainer writes a checkpoint first)…');
    void trainer.stop();
  };
  // Writing to a terminal that has gone away fails; the cancel must still run to its end.
  const ignoreClosedTerminal = () => undefined;
  process.stderr.on('error', ignoreClosedTerminal);
  for (const signal of CANCEL_SIGNALS) process.on(signal, cancel);
  try {
    const exit = await trainer.exited;
    return reportEnd(exit, finished, tail.lines, python, cancelling);
  } finally {
    for (const signal of CANCEL_SIGNALS) process.off(signal, cancel);
    process.stderr.off('error', ignoreClosedTerminal);
  }
}
