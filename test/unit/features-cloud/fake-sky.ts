// An in-process `sky` for the launcher's tests: each command replays lines in SkyPilot 0.14's formats (job lines
// framed `(task, pid=…)`, `Job submitted, ID: N`, `Job finished (status: …)`) and records how it was called.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SkyCommandResult, SkyRunner } from '../../../src/core/cloud/sky-launcher';
import type { CloudPlan, CloudPlanResult } from '../../../src/core/cloud/types';

export interface FakeCommand {
  lines: string[];
  exitCode?: number;
  /** Keep running after the lines until aborted (a job still training). */
  hang?: boolean;
  spawnError?: string;
}

export interface FakeSky {
  runner: SkyRunner;
  calls: string[][];
}

/** Commands by their first argument (`launch`, `cancel`, `down`, `check`). */
export function fakeSky(script: Record<string, FakeCommand>): FakeSky {
  const calls: string[][] = [];
  const runner: SkyRunner = async (args, { onLine, signal }) => {
    calls.push([...args]);
    const command = script[args[0]!] ?? { lines: [], exitCode: 0 };
    if (command.spawnError) return { exitCode: undefined, spawnError: command.spawnError };
    for (const line of command.lines) {
      if (signal?.aborted) break;
      onLine(line, 'stdout');
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (command.hang && !signal?.aborted) await new Promise((resolve) => signal?.addEventListener('abort', resolve, { once: true }));
    const result: SkyCommandResult = signal?.aborted ? { exitCode: undefined, signal: 'SIGTERM' } : { exitCode: command.exitCode ?? 0 };
    return result;
  };
  return { runner, calls };
}

export const REMOTE_RUN_DIR = '/home/sky/vin-ocr-runs/20261130-101500-baseline';

const event = (fields: Record<string, unknown>) =>
  `(task, pid=4242) ${JSON.stringify({ time: '2026-11-30T10:15:00Z', run_id: '20261130-101500-baseline', ...fields })}`;

/** What `sky launch` prints for a short successful run (provisioning, the job's events and log, the end). */
export function successfulLaunch(steps = 3): string[] {
  return [
    'Considered resources (1 node):',
    '---------------------------------------------------------------------------------------',
    ' INFRA              INSTANCE      vCPUs   Mem(GB)   GPUS     COST ($)   CHOSEN',
    '---------------------------------------------------------------------------------------',
    ' AWS (us-east-1)    g5.xlarge     4       16        A10G:1   1.01          ✔',
    '---------------------------------------------------------------------------------------',
    '⚙︎ Launching on AWS us-east-1 (us-east-1a).',
    '✓ Cluster launched: vin-ocr-test.  View logs: sky logs --provision vin-ocr-test',
    '\x1b[1m⚙︎ Job submitted, ID: 3\x1b[0m',
    '├── Waiting for task resources on 1 node.',
    '└── Job started. Streaming logs... (Ctrl-C to exit log streaming; job will not be killed)',
    '(setup pid=4200) Successfully installed torch',
    event({ event: 'run_started', run_dir: REMOTE_RUN_DIR, device: 'cuda', attention: 'sdpa', dtype: 'bf16', total_steps: steps }),
    '(task, pid=4242) step 1/3 loss 2.1',
    ...Array.from({ length: steps }, (_, index) =>
      event({ event: 'progress', step: index + 1, total_steps: steps, loss: 2 - index * 0.1 }),
    ),
    event({ event: 'checkpoint', path: `${REMOTE_RUN_DIR}/checkpoints/best.pt`, step: steps, kind: 'best' }),
    event({ event: 'run_finished', status: 'completed', step: steps, best_checkpoint: `${REMOTE_RUN_DIR}/checkpoints/best.pt` }),
    '\x1b[32m✓ Job finished (status: SUCCEEDED).\x1b[0m',
    '📋 Useful Commands',
  ];
}

/** A launch the cloud refuses for quota (SkyPilot 0.14 on GCP), after trying. */
export const QUOTA_FAILURE = [
  '⚙︎ Launching on GCP us-central1 (us-central1-a).',
  "W 11-30 10:15:07 gcp.py:1234] Got error(s) in us-central1: Quota 'NVIDIA_T4_GPUS' exceeded.  Limit: 0.0 in region us-central1.",
  'sky.exceptions.ResourcesUnavailableError: Failed to provision all possible launchable resources.',
];

/** A plan as the core makes it, with its task file in a temporary folder. */
export function fakePlan(clusterName: string, nodes = 1): (request: unknown) => Promise<CloudPlanResult> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), 'vin-ocr-fake-plan-'));
    const taskFile = join(root, 'task.yaml');
    writeFileSync(taskFile, 'name: test\n');
    const plan: CloudPlan = {
      target: {
        id: 'g5.xlarge',
        label: 'g5.xlarge (A10G 24 GB) · AWS',
        cloud: 'aws',
        instanceType: 'g5.xlarge',
        accelerators: 'A10G:1',
        gpusPerNode: 1,
      },
      nodes,
      clusterName,
      autostopMinutes: 30,
      taskYaml: 'name: test\n',
      workdir: join(root, 'workdir'),
      remoteRunDir: '~/vin-ocr-runs',
      fileMounts: {},
      taskFile,
      stagingDir: root,
    };
    return { ok: true, plan };
  };
}
