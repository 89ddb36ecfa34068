// Helpers for tests that start real processes and check the process table afterwards.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FAKE_TRAINER_DIR = join(__dirname, 'fixtures', 'fake-trainer');

/** The project's trainer interpreter when it exists, else the system's python3. */
export const PYTHON = existsSync(join(__dirname, '../../../.venv/bin/python')) ? join(__dirname, '../../../.venv/bin/python') : 'python3';

/** True while the process exists and is not a zombie (a zombie runs nothing; only its parent can reap it). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
