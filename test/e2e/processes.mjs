// Process bookkeeping for the harness: find every descendant of a process (Linux /proc) and end each by PID,
// so nothing started by a test run outlives it — code-server leaves children behind after SIGTERM.
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid) {
  try {
    // The command name may contain spaces and parentheses: the fields after the last ")" are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // gone already
  }
}

/** All live descendants of `root` (children, grandchildren, …). */
export function descendantsOf(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const parent = parentOf(Number(name));
    if (parent === undefined) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(Number(name));
  }
  const found = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid, name) {
  try {
    process.kill(pid, name);
  } catch {
    /* already gone */
  }
}

/** SIGTERM each PID, wait up to `graceMs`, then SIGKILL whatever is left. Returns the PIDs that needed SIGKILL. */
export async function stopProcesses(pids, graceMs = 3000) {
  const unique = [...new Set(pids)].filter((pid) => pid !== process.pid);
  for (const pid of unique) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && unique.some(alive)) await new Promise((resolve) => setTimeout(resolve, 100));
  const stubborn = unique.filter(alive);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  return stubborn;
}
