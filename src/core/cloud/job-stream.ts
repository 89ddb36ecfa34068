// Reads the output of `sky launch` / `sky logs` line by line: the trainer's events (from the head node),
// the job id, the chosen instance and its price, the job's final status; and says at the end how it went,
// our way. Shared by `vin-ocr cloud launch` and the cloud launcher of "Train on Cloud…".

import { classifyEvent, type RunFinishedEvent, type TrainerEvent } from '../trainer/events';
import { LineTail } from '../trainer/failure';
import {
  classifySkyFailure,
  eventTextOf,
  parseChosenResources,
  parseJobFinished,
  parseJobId,
  parseJobLine,
  parseRequestCancelHint,
  type ChosenResources,
} from './sky-output';
import type { CloudProblem } from './types';

export interface JobStreamHandlers {
  /** A trainer event (schemas/trainer-events.schema.json): the parsed event and its JSON text as the trainer wrote it. */
  onEvent?(event: TrainerEvent, json: string): void;
  /** Any other line: SkyPilot's own messages, setup output, the trainer's human log. */
  onLog?(line: string): void;
}

export interface JobOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  jobId?: number;
  /** Why it failed (or was cancelled), said our way. */
  problem?: CloudProblem;
}

/** SkyPilot's own lines kept for reading a failure (its messages come before and after the job's). */
const KEPT_SKY_LINES = 400;

export class SkyJobStream {
  jobId: number | undefined;
  /** SUCCEEDED, FAILED, FAILED_SETUP, CANCELLED, … once `Job finished` was printed. */
  jobStatus: string | undefined;
  chosen: ChosenResources | undefined;
  /** The API server's request to cancel when the client is interrupted before the job was submitted. */
  cancelRequestId: string | undefined;
  finished: RunFinishedEvent | undefined;
  private readonly skyLines = new LineTail(KEPT_SKY_LINES);
  private readonly table: string[] = [];

  constructor(private readonly handlers: JobStreamHandlers = {}) {}

  push(line: string): void {
    const job = parseJobLine(line);
    const json = eventTextOf(job);
    if (json !== undefined && this.pushEvent(json)) return;
    if (job.node === undefined) this.readSkyLine(line);
    this.handlers.onLog?.(line);
  }

  private pushEvent(json: string): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(json);
    } catch {
      return false;
    }
    const event = classifyEvent(raw);
    if (event.type === 'run_finished') this.finished = event;
    this.handlers.onEvent?.(event, json);
    return true;
  }

  private readSkyLine(line: string): void {
    this.skyLines.push(line);
    this.jobId ??= parseJobId(line);
    this.jobStatus = parseJobFinished(line) ?? this.jobStatus;
    this.cancelRequestId = parseRequestCancelHint(line) ?? this.cancelRequestId;
    // The optimizer's table is a few lines: read it once it is complete.
    if (this.chosen === undefined && this.table.length < 40) {
      this.table.push(line);
      this.chosen = parseChosenResources(this.table.join('\n'));
    }
  }

  /** How the job ended, from `sky`'s exit, the job's status and the trainer's own last event. */
  outcome(exitCode: number | undefined, cancelled: boolean): JobOutcome {
    const jobId = this.jobId === undefined ? {} : { jobId: this.jobId };
    if (cancelled || this.jobStatus === 'CANCELLED') {
      return {
        status: 'cancelled',
        ...jobId,
        problem: { code: 'cancelled', message: 'The run was cancelled.', fix: 'Launch it again to resume.' },
      };
    }
    if (this.jobStatus === 'SUCCEEDED' || (this.jobStatus === undefined && exitCode === 0)) return { status: 'succeeded', ...jobId };
    return { status: 'failed', ...jobId, problem: this.failure(exitCode) };
  }

  private failure(exitCode: number | undefined): CloudProblem {
    const trainer = this.finished;
    if (trainer && trainer.status === 'failed' && trainer.error_code) {
      return {
        code: trainer.error_code,
        message: trainer.message ?? 'The trainer failed.',
        fix: trainer.hint ?? 'See the trainer’s log above.',
      };
    }
    if (this.jobStatus && this.jobStatus !== 'FAILED_SETUP' && !trainer) {
      return {
        code: 'job-failed',
        message: `The job ended with ${this.jobStatus} before the trainer reported an outcome.`,
        fix: 'Read the job’s output above (`vin-ocr cloud logs CLUSTER`).',
      };
    }
    return classifySkyFailure(this.skyLines.lines.join('\n'), exitCode);
  }
}
