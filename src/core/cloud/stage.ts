// The task's workdir, staged in a temporary folder with the extension's own layout, so the trainer finds its
// files exactly as it does locally: trainer/vin_ocr (the package), trainer/stubs (the flash-attn stub some
// install commands name), data/requirements.json (read by the trainer beside trainer/) and the rewritten config.
// Only what `python -m vin_ocr` needs is copied: no tests, caches or build output.

import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Never uploaded: Python's and the tools' caches, tests and build output. */
const SKIPPED_NAMES = new Set(['__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', 'tests', 'build', 'dist']);
const SKIPPED_SUFFIXES = ['.pyc', '.pyo', '.egg-info'];

function isStaged(name: string): boolean {
  return !SKIPPED_NAMES.has(name) && !SKIPPED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** Copies a folder's staged files, all at once (fs.cp checks each file in turn: 3× slower for the trainer's ~150 files). */
async function copyTree(source: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  const entries = (await readdir(source, { withFileTypes: true })).filter((entry) => isStaged(entry.name));
  await Promise.all(
    entries.map((entry) => {
      const from = join(source, entry.name);
      const to = join(target, entry.name);
      if (entry.isDirectory()) return copyTree(from, to);
      return entry.isFile() ? copyFile(from, to) : Promise.resolve();
    }),
  );
}

async function copyInto(file: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await copyFile(file, target);
}

export interface StageInput {
  /** `<extensionRoot>/trainer`. */
  trainerDir: string;
  /** The config file name on the nodes (the workdir's top level). */
  configName: string;
  configText: string;
  /** Extra files of trainer/ the setup installs from (e.g. requirements-hf.txt). */
  trainerFiles: readonly string[];
  /** Where the staging folder is created (default: the system's temporary folder). */
  stagingRoot?: string;
}

export interface StagedRun {
  /** The folder holding workdir/ and task.yaml; the caller removes it when the run is over. */
  root: string;
  workdir: string;
  taskFile: string;
}

export async function stageWorkdir(input: StageInput): Promise<StagedRun> {
  const parent = input.stagingRoot ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const root = await mkdtemp(join(parent, 'vin-ocr-cloud-'));
  const workdir = join(root, 'workdir');
  const trainer = join(workdir, 'trainer');
  const stubs = join(input.trainerDir, 'stubs');
  const requirements = join(input.trainerDir, '..', 'data', 'requirements.json');
  await Promise.all([
    copyTree(join(input.trainerDir, 'vin_ocr'), join(trainer, 'vin_ocr')),
    existsSync(stubs) ? copyTree(stubs, join(trainer, 'stubs')) : undefined,
    ...input.trainerFiles.map((file) => copyInto(join(input.trainerDir, file), join(trainer, file))),
    existsSync(requirements) ? copyInto(requirements, join(workdir, 'data', 'requirements.json')) : undefined,
  ]);
  await writeFile(join(workdir, input.configName), input.configText);
  return { root, workdir, taskFile: join(root, 'task.yaml') };
}
