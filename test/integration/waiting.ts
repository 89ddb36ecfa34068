// What the integration suites share: waiting with a deadline, reading the process table (Linux /proc) to prove
// that nothing a run started is left behind, and Read VIN with a checkpoint. Bundled into each suite (not a suite
// itself: no .test in its name).
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { LiveRun } from '../../src/core/trainer/run-manager';

/** The promise's value, or an error naming what did not happen within `ms`. */
export function within<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    Promise.resolve(promise),
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
  ]);
}

/** Polls `probe` until it answers something other than undefined or false. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function processIds(): string[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name));
}

/** Live processes (not zombies) of a process group. */
export function groupMembers(pgid: number): number[] {
  return processIds()
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Processes whose command line mentions the text (the trainer names its config; PaddleOCR's tools/train.py its run folder). */
export function processesMentioning(text: string): number[] {
  return processIds()
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** What "VIN OCR: Read VIN from Image" answers for one image. */
export interface ReadAnswer {
  vin?: string;
  characters?: unknown[];
  error?: string;
}

/** Runs Read VIN from Image on one image with a checkpoint and asserts that it read a VIN without an error. */
export async function readVinWith(image: vscode.Uri, checkpoint: string, ms: number, what: string): Promise<ReadAnswer> {
  const reads = await within(vscode.commands.executeCommand<ReadAnswer[]>('vinOcr.readVin', image, checkpoint), ms, what);
  assert.equal(reads?.length, 1, 'predict answered (see the VIN OCR Training log otherwise)');
  assert.equal(reads![0]!.error, undefined);
  assert.equal(typeof reads![0]!.vin, 'string', 'a read (of whatever quality a few steps of training give)');
  return reads![0]!;
}

/** Waits for a running run's first checkpoint; a run that ends before it fails the wait with its status and log tail. */
export function untilFirstCheckpoint(run: LiveRun, ms: number, what: string): Promise<boolean> {
  return until(
    () => {
      if (run.state.status !== 'running' && run.state.status !== 'queued')
        throw new Error(`the run ended early: ${run.state.status} ${run.state.errorCode ?? ''} ${run.tail.join('\n')}`);
      return run.state.checkpoints.length > 0;
    },
    ms,
    what,
  );
}
