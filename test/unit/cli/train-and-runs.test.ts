import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// The CLI for real: the TypeScript entry point run by Node, the bundled trainer run by the project's .venv.
const root = resolve(__dirname, '..', '..', '..');
const python = join(root, '.venv', 'bin', 'python');
const fixtures = join(root, 'test', 'fixtures', 'workspace', 'training');
// tsx by absolute URL: the CLI runs in a temporary folder, where a bare `--import tsx` would not resolve.
const cliArgs = (args: string[]) => ['--import', pathToFileURL(require.resolve('tsx')).href, join(root, 'src', 'cli.ts'), ...args];
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, cliArgs(args), { cwd, encoding: 'utf8', timeout: 120_000 });

describe('vin-ocr train and vin-ocr runs', function () {
  this.timeout(180_000);
  let work: string;

  before(function () {
    if (!existsSync(python)) this.skip(); // `npm test` creates .venv before the unit tests
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'vin-ocr-cli-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('refuses a config with errors before starting anything', () => {
    copyFileSync(join(fixtures, 'invalid.yaml'), join(work, 'invalid.yaml'));
    const result = cli(['train', 'invalid.yaml', '--python', python], work);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /invalid\.yaml:9:15 error out-of-range/);
    assert.equal(existsSync(join(work, 'runs')), false);
  });

  it('trains a tiny config to completion and lists the run with its checkpoint', () => {
    copyFileSync(join(fixtures, 'tiny.yaml'), join(work, 'tiny.yaml'));
    const trained = cli(['train', 'tiny.yaml', '--python', python], work);
    assert.equal(trained.status, 0, trained.stderr);
    assert.match(trained.stderr, /run completed/);

    const listed = cli(['runs', '--json'], work);
    assert.equal(listed.status, 0);
    const runs = JSON.parse(listed.stdout) as { status: string; bestCheckpoint?: string }[];
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'completed');
    assert.ok(runs[0]!.bestCheckpoint && existsSync(runs[0]!.bestCheckpoint));
  });

  it('passes Ctrl+C on as a cancel: exit 130, a cancelled run and its checkpoint', async () => {
    copyFileSync(join(fixtures, 'long.yaml'), join(work, 'long.yaml'));
    const child = spawn(process.execPath, cliArgs(['train', 'long.yaml', '--json', '--python', python]), { cwd: work });
    let stdout = '';
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"event": "progress"') || stdout.includes('"event":"progress"')) done();
      });
      child.on('exit', () => fail(new Error(`exited before any progress: ${stdout}`)));
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((done) => child.on('exit', (status) => done(status)));
    assert.equal(code, 130);
    // --json relays the trainer's own events: the contract's field names (`event`, not our `type`).
    const finished = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; status?: string; last_checkpoint?: string })
      .find((event) => event.event === 'run_finished');
    assert.equal(finished?.status, 'cancelled');
    assert.ok(finished?.last_checkpoint && existsSync(finished.last_checkpoint));
  });

  it('lists nothing, successfully, where there are no runs', () => {
    const result = cli(['runs'], work);
    assert.equal(result.status, 0);
    assert.equal(result.stdout, 'No runs found.\n');
  });
});
