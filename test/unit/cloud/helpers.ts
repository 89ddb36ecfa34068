// Shared by the cloud tests: paths, a temporary workspace with configs and datasets, the `sky` stand-in.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const TRAINER_DIR = join(ROOT, 'trainer');
export const SKY_FIXTURES = join(ROOT, 'test', 'fixtures', 'sky');
export const STANDIN = join(SKY_FIXTURES, 'sky-standin.mjs');
export const TINY_CONFIG = join(ROOT, 'test', 'fixtures', 'workspace', 'training', 'tiny.yaml');

export function fixtureText(...parts: string[]): string {
  return readFileSync(join(SKY_FIXTURES, ...parts), 'utf8');
}

/** A recording as `sky` printed it: stdout then stderr (what our parsers read, in that order). */
export function replay(folder: 'recorded' | 'synthesised', name: string): string {
  const read = (stream: string) => {
    try {
      return readFileSync(join(SKY_FIXTURES, folder, `${name}.${stream}.txt`), 'utf8');
    } catch {
      return '';
    }
  };
  return read('stdout') + read('stderr');
}

/** A temporary folder with the tiny config (and whatever a test writes next to it); removed by `dispose`. */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'vin-ocr-cloud-test-'));
  readonly staging = join(this.dir, 'staging');

  constructor() {
    copyFileSync(TINY_CONFIG, this.path('tiny.yaml'));
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  write(relative: string, text: string): string {
    const file = this.path(relative);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  /** The tiny config with `data:` lines replaced. */
  config(name: string, replacements: Record<string, string>): string {
    let text = readFileSync(TINY_CONFIG, 'utf8');
    for (const [from, to] of Object.entries(replacements)) text = text.replace(from, to);
    return this.write(name, text);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// tsx by absolute URL: the CLI may run in a temporary folder, where a bare `--import tsx` would not resolve.
export const cliArgs = (args: string[]): string[] => [
  '--import',
  pathToFileURL(require.resolve('tsx')).href,
  join(ROOT, 'src', 'cli.ts'),
  ...args,
];

export function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, cliArgs(args), { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}
