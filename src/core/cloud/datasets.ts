// Where a training config's datasets come from on a cloud machine: each local folder (a labels.txt counts
// as its folder, since its image paths are relative to it) or bucket URI becomes one of the task's
// file_mounts, and the config's path is rewritten to the mounted path. Pure apart from the injected `kind`.

import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { CloudProblem } from './types';

/** The config keys that name datasets (the same as the validator's dataset rule). */
export const DATASET_KEYS = ['train', 'val', 'test'] as const;
export type DatasetKey = (typeof DATASET_KEYS)[number];

/** Mount points on every node; absolute, so the trainer needs no home folder to find them. */
export const REMOTE_DATA_ROOT = '/vin-ocr/data';

/** Buckets SkyPilot mounts: S3, GCS, Cloudflare R2, IBM COS, OCI, and Azure Blob containers. */
const BUCKET_URI = /^(?:(?:s3|gs|r2|cos|oci):\/\/[^/\s]+|https:\/\/[a-z0-9]+\.blob\.core\.windows\.net\/[^/\s]+)(?:\/\S*)?$/i;
const ANY_URI = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A bucket object that is a labels file rather than a folder prefix. */
const LABELS_FILE = /\.(?:txt|tsv|csv|jsonl)$/i;

export interface DatasetEntry {
  key: DatasetKey;
  value: string;
  /** 1-based line of the value in the config, for problems. */
  line?: number;
}

export interface DatasetPlan {
  /** Remote mount point → local folder or bucket URI (SkyPilot's file_mounts). */
  fileMounts: Record<string, string>;
  /** Config key → the path the trainer reads on the nodes. */
  rewritten: Partial<Record<DatasetKey, string>>;
  problems: CloudProblem[];
}

export type PathKind = 'file' | 'directory' | undefined;

export const isBucketUri = (value: string): boolean => BUCKET_URI.test(value.trim());

/** Values that are no dataset to mount: synthetic data, none, or a `{placeholder}` (the validator's rule). */
function needsNoMount(value: string): boolean {
  const trimmed = value.trim();
  return trimmed === '' || trimmed === 'synthetic' || /\{[a-z_]+\}/.test(trimmed);
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** A bucket URI as (mount source, path inside the mount): a labels file is mounted through its prefix. */
function bucketSource(uri: string): { source: string; inside?: string } {
  const trimmed = uri.trim().replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const isRootOnly = trimmed.slice(0, slash).endsWith(':/') || /\.blob\.core\.windows\.net$/i.test(trimmed.slice(0, slash));
  if (!LABELS_FILE.test(trimmed) || isRootOnly) return { source: trimmed };
  return { source: trimmed.slice(0, slash), inside: trimmed.slice(slash + 1) };
}

function datasetProblem(entry: DatasetEntry, configPath: string, code: string, message: string, fix: string): CloudProblem {
  return { code, message: `data.${entry.key}: ${message}`, fix, file: configPath, ...(entry.line ? { line: entry.line } : {}) };
}

type SourceResult = { source: string; inside?: string } | CloudProblem;

function localSource(entry: DatasetEntry, configPath: string, kind: (path: string) => PathKind): SourceResult {
  const local = resolve(dirname(configPath), expandHome(entry.value.trim()));
  const found = kind(local);
  if (found === 'directory') return { source: local };
  if (found === 'file') return { source: dirname(local), inside: basename(local) };
  return datasetProblem(
    entry,
    configPath,
    'dataset-missing',
    `"${entry.value}" does not exist (looked for ${local}).`,
    'Point it at an existing labels.txt or image folder (relative to the config), a bucket URI such as s3://bucket/vins, or "synthetic".',
  );
}

function sourceOf(entry: DatasetEntry, configPath: string, kind: (path: string) => PathKind): SourceResult {
  if (isBucketUri(entry.value)) return bucketSource(entry.value);
  if (ANY_URI.test(entry.value.trim())) {
    return datasetProblem(
      entry,
      configPath,
      'dataset-uri-unsupported',
      `"${entry.value}" is a URI SkyPilot cannot mount.`,
      'Use a local folder or a bucket: s3://, gs://, r2://, cos://, oci:// or https://ACCOUNT.blob.core.windows.net/CONTAINER.',
    );
  }
  return localSource(entry, configPath, kind);
}

/**
 * One mount per distinct folder or bucket prefix (train and test in one folder share it), named after the
 * first key that uses it: `/vin-ocr/data/train`.
 */
export function planDatasets(entries: readonly DatasetEntry[], configPath: string, kind: (path: string) => PathKind): DatasetPlan {
  const plan: DatasetPlan = { fileMounts: {}, rewritten: {}, problems: [] };
  const mountOf = new Map<string, string>();
  for (const entry of entries) {
    if (needsNoMount(entry.value)) continue;
    const found = sourceOf(entry, configPath, kind);
    if ('code' in found) {
      plan.problems.push(found);
      continue;
    }
    let mount = mountOf.get(found.source);
    if (!mount) {
      mount = `${REMOTE_DATA_ROOT}/${entry.key}`;
      mountOf.set(found.source, mount);
      plan.fileMounts[mount] = found.source;
    }
    plan.rewritten[entry.key] = found.inside ? `${mount}/${found.inside}` : mount;
  }
  return plan;
}

/** Whether a `model.model_id` names a folder on this machine (which no cloud node has). */
export function isLocalModelPath(modelId: string): boolean {
  const trimmed = modelId.trim();
  return isAbsolute(trimmed) || trimmed.startsWith('./') || trimmed.startsWith('../') || trimmed.startsWith('~');
}
