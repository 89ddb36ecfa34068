// The "VIN OCR Training" log: the trainer's human-readable stderr with levels, plus our own notes.
// Progress events are not echoed (the trainer prints its own progress line), so a fast trainer
// cannot flood the channel with thousands of lines a second.
import * as vscode from 'vscode';
import type { LineProblem } from '../../core/trainer/jsonl-reader';

export type TrainingLog = vscode.LogOutputChannel;

export function createTrainingLog(): TrainingLog {
  return vscode.window.createOutputChannel('VIN OCR Training', { log: true });
}

const ERROR_LINE = /\b(ERROR|CRITICAL|Traceback|Error:|Exception:)|^\[[a-z_]+\]/;
const WARNING_LINE = /\b(WARNING|Warning:|UserWarning|DeprecationWarning)\b/;

/** Writes one line of the trainer's output at the level its text suggests. */
export function logTrainerLine(log: TrainingLog, prefix: string, line: string): void {
  if (line.trim().length === 0) return;
  const text = `${prefix}${line}`;
  if (ERROR_LINE.test(line)) log.error(text);
  else if (WARNING_LINE.test(line)) log.warn(text);
  else log.info(text);
}

export function logLineProblem(log: TrainingLog, prefix: string, problem: LineProblem): void {
  if (problem.kind === 'too-long') log.warn(`${prefix}skipped an event line of ${problem.bytes} bytes (over the size limit)`);
  else log.debug(`${prefix}not an event: ${problem.line}`);
}
