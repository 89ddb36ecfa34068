import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { killProcessTree, processGroupMembers } from '../../../src/core/trainer/kill-tree';
import { isRunning, PYTHON, waitFor } from './process-helpers';

// A parent that starts a grandchild (the shape of a trainer with a DataLoader worker) and prints both pids.
const NODE_TREE = `
const { spawn } = require('node:child_process');
const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
${'${IGNORE_TERM}'}
console.log(JSON.stringify([process.pid, grandchild.pid]));
setInterval(() => {}, 1000);
`;

function startTree(command: string, args: string[]) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, pids: waitFor(() => (out.includes('\n') ? (JSON.parse(out) as number[]) : undefined)) };
}

describe('killProcessTree', function () {
  if (process.platform !== 'linux') return; // the assertions read /proc

  it('ends a node parent and its grandchild with SIGTERM', async () => {
    const { child, pids } = startTree(process.execPath, ['-e', NODE_TREE.replace('${IGNORE_TERM}', '')]);
    const [parent, grandchild] = await pids;
    assert.ok(isRunning(grandchild!));
    assert.deepEqual(processGroupMembers(child.pid!).sort(), [parent, grandchild].sort());
    const result = await killProcessTree(child.pid!, { graceMs: 3000 });
    assert.deepEqual(result, { forced: false, gone: true });
    assert.equal(isRunning(parent!), false);
    assert.equal(isRunning(grandchild!), false);
  });

  it('escalates to SIGKILL when the tree ignores SIGTERM', async () => {
    const script = NODE_TREE.replace('${IGNORE_TERM}', "process.on('SIGTERM', () => {});");
    const { child, pids } = startTree(process.execPath, ['-e', script]);
    const [parent, grandchild] = await pids;
    const started = Date.now();
    const result = await killProcessTree(child.pid!, { graceMs: 300 });
    assert.deepEqual(result, { forced: true, gone: true });
    assert.ok(Date.now() - started < 3000, 'took too long');
    assert.equal(isRunning(parent!), false);
    assert.equal(isRunning(grandchild!), false);
  });

  it('ends a python parent and its python grandchild', async () => {
    const script = [
      'import json, subprocess, sys, time',
      'g = subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)"])',
      'print(json.dumps([__import__("os").getpid(), g.pid]), flush=True)',
      'while True: time.sleep(1)',
    ].join('\n');
    const { child, pids } = startTree(PYTHON, ['-c', script]);
    const [parent, grandchild] = await pids;
    await killProcessTree(child.pid!, { graceMs: 3000 });
    assert.equal(isRunning(parent!), false);
    assert.equal(isRunning(grandchild!), false);
  });

  it('answers at once for a group that is already gone and rejects bad pids', async () => {
    const child = spawn(process.execPath, ['-e', ''], { detached: true, stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    assert.deepEqual(await killProcessTree(child.pid!), { forced: false, gone: true });
    await assert.rejects(killProcessTree(0), /not a process id/);
    await assert.rejects(killProcessTree(-5), /not a process id/);
  });
});
