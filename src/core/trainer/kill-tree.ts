// Ends a whole process tree: the trainer, its DataLoader workers and anything they started.
// `child.kill()` alone reaches only the direct child; the trainer is therefore spawned as the
// leader of its own process group (detached) and the group is signalled as a whole.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface KillTreeOptions {
  /** How long the tree gets after SIGTERM to save a checkpoint and exit on its own. */
  graceMs?: number;
  /** How long to wait for the tree to vanish after SIGKILL before giving up. */
  forceWaitMs?: number;
  pollMs?: number;
  platform?: NodeJS.Platform;
}

export interface KillTreeResult {
  /** True when SIGKILL (or taskkill /F) was needed because SIGTERM was not enough. */
  forced: boolean;
  /** True when nothing of the group is left. */
  gone: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Live (non-zombie) members of a process group, read from /proc; Linux only. */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return members;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we were looking
    }
    // Format: pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const pgrp = Number(fields[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') members.push(Number(name));
  }
  return members;
}

/** Whether any process of the group still runs. Zombies do not count: they run nothing. */
export function processGroupAlive(pgid: number, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'linux') return processGroupMembers(pgid).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we want.
  }
}

async function waitUntilGone(pgid: number, ms: number, pollMs: number, platform: NodeJS.Platform): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!processGroupAlive(pgid, platform)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

function taskkill(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('taskkill', ['/PID', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    child.on('error', () => resolve());
    child.on('exit', () => resolve());
  });
}

/**
 * Ends the process tree led by `pid` (spawned detached, so pid = pgid on POSIX): SIGTERM to the
 * group, up to `graceMs` for a clean exit, then SIGKILL. On Windows `taskkill /T /F` ends the tree.
 */
export async function killProcessTree(pid: number, options: KillTreeOptions = {}): Promise<KillTreeResult> {
  const { graceMs = 5000, forceWaitMs = 2000, pollMs = 50, platform = process.platform } = options;
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`killProcessTree: not a process id: ${pid}`);
  if (platform === 'win32') {
    await taskkill(pid);
    return { forced: true, gone: true };
  }
  if (!processGroupAlive(pid, platform)) return { forced: false, gone: true };
  signalGroup(pid, 'SIGTERM');
  if (await waitUntilGone(pid, graceMs, pollMs, platform)) return { forced: false, gone: true };
  signalGroup(pid, 'SIGKILL');
  return { forced: true, gone: await waitUntilGone(pid, forceWaitMs, pollMs, platform) };
}
