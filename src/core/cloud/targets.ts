// What a user can ask to train on: an instance of data/requirements.json's cloud table ("g5.xlarge"),
// or a bare accelerator spec ("A100:8") that lets SkyPilot choose the cloud and instance type.
// Unknown names are answered with the known ones, the spec syntax and the nearest id.

import { cloudInstances, type CloudInstance } from '../hardware/requirements';
import type { HardwareFacts } from '../hardware/types';
import { nearest } from '../config/suggest';
import type { CloudProblem, CloudTarget } from './types';

/** SkyPilot's accelerator syntax: a name and a whole GPU count per node. */
const ACCELERATOR_SPEC = /^([A-Za-z][A-Za-z0-9-]*)(?::(\d+))?$/;
/** More GPUs than any single instance offers: a typo, not a request. */
const MAX_GPUS_PER_NODE = 16;

export const ACCELERATOR_SPEC_SYNTAX = 'NAME:COUNT, e.g. A100:8 or T4:1 (SkyPilot picks the cloud and instance type)';

export type TargetResolution = { ok: true; target: CloudTarget } | { ok: false; problem: CloudProblem };

function acceleratorParts(spec: string): { name: string; count: number } | undefined {
  const match = ACCELERATOR_SPEC.exec(spec.trim());
  if (!match) return undefined;
  return { name: match[1]!, count: match[2] === undefined ? 1 : Number(match[2]) };
}

/** The accelerator names our table knows (T4, A10G, V100, A100), for bare names without a count. */
function knownAcceleratorNames(): string[] {
  const names = cloudInstances.flatMap((instance) =>
    instance.sky.accelerators ? [acceleratorParts(instance.sky.accelerators)!.name] : [],
  );
  return [...new Set(names)];
}

function instanceTarget(instance: CloudInstance): CloudTarget {
  const gpus = instance.facts.gpus;
  return {
    id: instance.id,
    label: `${instance.label} · ${instance.provider}`,
    cloud: instance.sky.cloud,
    instanceType: instance.sky.instance_type,
    ...(instance.sky.accelerators ? { accelerators: instance.sky.accelerators } : {}),
    gpusPerNode: Math.max(1, gpus.length),
    ...(gpus[0]?.vram_mib ? { vramMib: gpus[0].vram_mib } : {}),
  };
}

/** An instance of the table with this accelerator, for its GPU's memory and facts. */
function instanceWithAccelerator(name: string): CloudInstance | undefined {
  const wanted = name.toLowerCase();
  return cloudInstances.find((instance) => instance.sky.accelerators?.split(':')[0]!.toLowerCase() === wanted);
}

function specTarget(spec: string, name: string, count: number): CloudTarget {
  const known = instanceWithAccelerator(name);
  const canonical = known?.sky.accelerators?.split(':')[0] ?? name;
  const vram = known?.facts.gpus[0]?.vram_mib;
  return {
    id: spec.trim(),
    label: `${count} × ${canonical} (any cloud SkyPilot has enabled)`,
    accelerators: `${canonical}:${count}`,
    gpusPerNode: count,
    ...(vram ? { vramMib: vram } : {}),
  };
}

function unknownTarget(instance: string): CloudProblem {
  const ids = cloudInstances.map((candidate) => candidate.id);
  const suggestion = nearest(instance.trim(), ids);
  return {
    code: 'unknown-instance',
    message: `"${instance}" is neither an instance of our table nor an accelerator spec. ` + `Known instances: ${ids.join(', ')}.`,
    fix: suggestion
      ? `Did you mean ${suggestion}? Or give an accelerator spec: ${ACCELERATOR_SPEC_SYNTAX}.`
      : `Pick one of the instances above, or give an accelerator spec: ${ACCELERATOR_SPEC_SYNTAX}.`,
  };
}

/**
 * An instance id of the table (case-insensitive), or an accelerator spec: `NAME:COUNT`, or a bare `NAME`
 * that the table knows (T4, A10G, V100, A100), so a mistyped instance id is never taken for an accelerator.
 */
export function resolveCloudTarget(instance: string): TargetResolution {
  const wanted = instance.trim().toLowerCase();
  const row = cloudInstances.find((candidate) => candidate.id.toLowerCase() === wanted);
  if (row) return { ok: true, target: instanceTarget(row) };
  const parts = acceleratorParts(instance);
  const isSpec =
    parts && (instance.includes(':') || knownAcceleratorNames().some((name) => name.toLowerCase() === parts.name.toLowerCase()));
  if (!parts || !isSpec) return { ok: false, problem: unknownTarget(instance) };
  if (parts.count < 1 || parts.count > MAX_GPUS_PER_NODE) {
    return {
      ok: false,
      problem: {
        code: 'bad-accelerator-count',
        message: `"${instance}" asks for ${parts.count} GPUs per node; instances have 1 to ${MAX_GPUS_PER_NODE}.`,
        fix: `Give a count from 1 to ${MAX_GPUS_PER_NODE}, e.g. ${parts.name}:8, and more nodes with --nodes.`,
      },
    };
  }
  return { ok: true, target: specTarget(instance, parts.name, parts.count) };
}

/** Every instance of the table, for pickers and usage text. */
export function listCloudTargets(): CloudTarget[] {
  return cloudInstances.map(instanceTarget);
}

/**
 * The machine the config is judged against (model fit, attention): the table's facts for an instance,
 * the facts of a table instance with the same GPU (times the count) for a spec, else none (rules stay silent).
 */
export function targetFacts(target: CloudTarget): HardwareFacts | undefined {
  const row = cloudInstances.find((candidate) => candidate.id === target.id);
  if (row) return row.facts;
  const name = target.accelerators?.split(':')[0];
  const known = name ? instanceWithAccelerator(name) : undefined;
  if (!known) return undefined;
  return { ...known.facts, gpus: Array.from({ length: target.gpusPerNode }, () => known.facts.gpus[0]!) };
}
