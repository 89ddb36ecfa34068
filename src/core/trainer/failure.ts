// Why a trainer ended without saying so itself. The trainer reports its own failures (run_finished
// with an error code, or a JSON error from predict/evaluate); when it could not (it never started,
// could not import its dependencies, or died), the exit and the last log lines tell us. Every start
// path (Train, the CLI, tasks through the CLI, predict and evaluate) uses this one reading.

import type { TrainerExit } from './launcher';

export type UnreportedFailureCode = 'no_interpreter' | 'missing_dependency' | 'crashed';

export interface UnreportedFailure {
  errorCode: UnreportedFailureCode;
  message: string;
  hint?: string;
}

/** The module a Python traceback says is missing (`ModuleNotFoundError: No module named 'torch'`). */
export function missingModule(lines: readonly string[]): string | undefined {
  for (let index = lines.length - 1; index >= 0; index--) {
    const match = /^ModuleNotFoundError: No module named '([\w.]+)'/.exec(lines[index]!.trim());
    if (match) return match[1]!.split('.')[0];
  }
  return undefined;
}

/** Classifies an exit the trainer did not report: `tail` is the last lines of its stderr. */
export function classifyUnreportedExit(exit: TrainerExit, tail: readonly string[], python: string): UnreportedFailure {
  if (exit.spawnError) return { errorCode: 'no_interpreter', message: exit.spawnError };
  const missing = missingModule(tail);
  if (missing) {
    // The trainer could not even import its dependencies: the interpreter lacks them.
    return {
      errorCode: 'missing_dependency',
      message: `${python} has no module named '${missing}'.`,
      hint: 'Set up the trainer environment, or point vinOcr.pythonPath at an interpreter with torch.',
    };
  }
  // A crash: segfault, kill -9, an exception before the event writer existed.
  const how = exit.signal ? `on ${exit.signal}` : `with code ${exit.exitCode}`;
  return { errorCode: 'crashed', message: `The trainer exited ${how} without reporting an outcome.` };
}

/** One line for a terminal or a message: `code: message hint`. */
export function describeFailure(failure: UnreportedFailure): string {
  return `${failure.errorCode}: ${failure.message}${failure.hint ? ` ${failure.hint}` : ''}`;
}

/** Keeps the last `size` lines of a stream, for the explanation of a crash. */
export class LineTail {
  private readonly kept: string[] = [];

  constructor(private readonly size = 40) {}

  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.size) this.kept.shift();
  }

  get lines(): readonly string[] {
    return this.kept;
  }
}
