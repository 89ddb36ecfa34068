// The SkyPilot task for a run, as data and as YAML (SkyPilot's task schema, checked against SkyPilot's own
// parser by trainer/tests/test_sky_tasks.py). Pure: the scripts and resources come from the plan.

import { stringify } from 'yaml';
import type { CloudTarget } from './types';

/** The trainer's virtual environment on every node (created by `setup`, used by `run`). */
export const REMOTE_VENV = '~/vin-ocr-venv';
/** The rendezvous port on the head node (node 0). */
export const MASTER_PORT = 29500;

export interface SkyTaskInput {
  name: string;
  target: CloudTarget;
  nodes: number;
  spot: boolean;
  /** Idle minutes before SkyPilot stops (or, for spot, tears down) the cluster; 0: autostop off. */
  autostopMinutes: number;
  workdir: string;
  fileMounts: Record<string, string>;
  setup: string;
  run: string;
}

/** Single-quoted for bash when it holds anything but safe characters. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * SkyPilot's `resources.autostop` (honoured by `sky launch` since 0.10, see sky/execution.py): idle minutes, or
 * `false` to ask for none. Spot instances cannot be stopped on AWS or GCP, so a spot cluster is torn down instead.
 */
export function autostopField(minutes: number, spot: boolean): false | { idle_minutes: number; down?: true } {
  if (minutes <= 0) return false;
  return spot ? { idle_minutes: minutes, down: true } : { idle_minutes: minutes };
}

export function resourcesOf(input: Pick<SkyTaskInput, 'target' | 'spot' | 'autostopMinutes'>): Record<string, unknown> {
  const { target } = input;
  return {
    ...(target.cloud ? { infra: target.cloud } : {}),
    ...(target.instanceType ? { instance_type: target.instanceType } : {}),
    ...(target.accelerators ? { accelerators: target.accelerators } : {}),
    use_spot: input.spot,
    autostop: autostopField(input.autostopMinutes, input.spot),
  };
}

/**
 * The `run` command: our trainer, which starts torchrun itself with SkyPilot's node variables (one process
 * per GPU, node 0 hosting the rendezvous). Not torchrun directly: our launcher supervises the ranks, so a
 * rank that dies (rank 0 included) still ends the event stream with a run_finished naming it.
 */
export function trainerCommand(configName: string): string {
  return [
    'python -m vin_ocr train',
    shellQuote(configName),
    '--nnodes "$SKYPILOT_NUM_NODES"',
    '--node-rank "$SKYPILOT_NODE_RANK"',
    '--nproc-per-node "$SKYPILOT_NUM_GPUS_PER_NODE"',
    `--rdzv-endpoint "$(echo "$SKYPILOT_NODE_IPS" | head -n1):${MASTER_PORT}"`,
    '--events -',
  ].join(' ');
}

export function runScript(configName: string): string {
  return [
    'set -e',
    `source ${REMOTE_VENV}/bin/activate`,
    // The workdir holds trainer/vin_ocr, as the extension does; the trainer needs no install of its own.
    'export PYTHONPATH="$PWD/trainer${PYTHONPATH:+:$PYTHONPATH}"',
    trainerCommand(configName),
  ].join('\n');
}

/** `setup`: a venv with the model family's packages, created once per node and reused by later launches. */
export function setupScript(installCommands: readonly string[]): string {
  return [
    'set -e',
    `[ -x ${REMOTE_VENV}/bin/python ] || python3 -m venv ${REMOTE_VENV}`,
    `source ${REMOTE_VENV}/bin/activate`,
    'python -m pip install --upgrade pip',
    ...installCommands,
  ].join('\n');
}

export function buildSkyTask(input: SkyTaskInput): Record<string, unknown> {
  return {
    name: input.name,
    resources: resourcesOf(input),
    num_nodes: input.nodes,
    workdir: input.workdir,
    ...(Object.keys(input.fileMounts).length ? { file_mounts: input.fileMounts } : {}),
    // Events must reach `sky logs` as they happen, not when Python's buffer fills.
    envs: { PYTHONUNBUFFERED: '1' },
    setup: input.setup,
    run: input.run,
  };
}

export function skyTaskYaml(input: SkyTaskInput): string {
  const header = `# SkyPilot task written by vin-ocr cloud plan (${input.target.id}, ${input.nodes} node${input.nodes > 1 ? 's' : ''}).\n`;
  // lineWidth 0: never fold a long command line; block scalars keep the scripts readable.
  return header + stringify(buildSkyTask(input), { lineWidth: 0, blockQuote: 'literal' });
}
