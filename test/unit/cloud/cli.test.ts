import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { cli, cliArgs, fixtureText, ROOT, STANDIN, Workspace } from './helpers';

const argvLog = (file: string): string[][] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { argv: string[] }).argv);

describe('vin-ocr cloud (against the sky stand-in)', function () {
  this.timeout(60_000);
  let workspace: Workspace;
  let log: string;
  const env = (scenario = 'ok', extra: NodeJS.ProcessEnv = {}) => ({
    SKY_STANDIN_SCENARIO: scenario,
    SKY_STANDIN_LOG: log,
    TMPDIR: workspace.staging,
    ...extra,
  });

  beforeEach(() => {
    workspace = new Workspace();
    log = workspace.path('sky-argv.jsonl');
    workspace.write('staging/.keep', '');
  });
  afterEach(() => workspace.dispose());

  it('prints usage with every subcommand, and refuses bad usage with exit 2', () => {
    const help = cli(['cloud', '--help']);
    assert.equal(help.status, 0);
    for (const word of [
      'plan CONFIG --instance NAME',
      'launch CONFIG',
      'status [CLUSTER]',
      'logs CLUSTER [JOB]',
      'down CLUSTER',
      'check',
      'A100:8',
    ]) {
      assert.ok(help.stdout.includes(word), word);
    }
    assert.equal(cli(['cloud', 'plan', 'tiny.yaml']).status, 2);
    assert.equal(cli(['cloud', 'plan', 'tiny.yaml', '--instance', 'g5.xlarge', '--nodes', 'two']).status, 2);
    assert.equal(cli(['cloud', 'fly']).status, 2);
    assert.match(cli(['--help']).stdout, /cloud plan\|launch\|status\|logs\|down\|check/);
  });

  it('plan prints the task, or writes it with --out; --json gives the plan', () => {
    const printed = cli(
      ['cloud', 'plan', workspace.path('tiny.yaml'), '--instance', 'g5.xlarge', '--nodes', '2', '--cluster', 'vin-ocr-t'],
      env(),
    );
    assert.equal(printed.status, 0, printed.stderr);
    const task = parse(printed.stdout) as { num_nodes: number; resources: { instance_type: string } };
    assert.deepEqual([task.num_nodes, task.resources.instance_type], [2, 'g5.xlarge']);
    const out = workspace.path('task.yaml');
    const written = cli(['cloud', 'plan', workspace.path('tiny.yaml'), '--instance', 'A100:8', '--spot', '--out', out], env());
    assert.equal(written.status, 0, written.stderr);
    assert.equal(written.stdout, '');
    assert.match(readFileSync(out, 'utf8'), /accelerators: A100:8\n {2}use_spot: true/);
    const json = cli(['cloud', 'plan', workspace.path('tiny.yaml'), '--instance', 'g4dn.xlarge', '--json'], env());
    assert.equal((JSON.parse(json.stdout) as { plan: { target: { id: string } } }).plan.target.id, 'g4dn.xlarge');
  });

  it('says our own diagnostics for an unknown instance, bad nodes and a missing dataset; sky is never run', () => {
    const config = workspace.config('missing.yaml', { 'train: synthetic': 'train: data/labels.txt' });
    const result = cli(['cloud', 'launch', config, '--instance', 'p3.2xlarg', '--nodes', '0', '--sky', STANDIN], env());
    assert.equal(result.status, 1);
    assert.match(result.stderr, /error unknown-instance "p3\.2xlarg" is neither/);
    assert.match(result.stderr, /fix: Did you mean p3\.2xlarge\?/);
    assert.match(result.stderr, /error bad-nodes/);
    assert.match(result.stderr, new RegExp(`${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:1 error dataset-missing`));
    assert.match(result.stderr, /nothing was planned or launched/);
    assert.doesNotMatch(result.stderr, /Traceback/);
    assert.equal(existsSync(log), false, 'sky was not run');
  });

  it('launch streams the trainer’s events and exits 0 when the job succeeds; the staging is removed', () => {
    const result = cli(
      [
        'cloud',
        'launch',
        workspace.path('tiny.yaml'),
        '--instance',
        'g5.xlarge',
        '--nodes',
        '2',
        '--cluster',
        'vin-ocr-t',
        '--sky',
        STANDIN,
        '--json',
      ],
      env(),
    );
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), fixtureText('trainer-events.jsonl').trim().split('\n'));
    assert.match(result.stderr, /vin-ocr cloud: step 6\/6 · 100%/);
    assert.match(result.stderr, /run succeeded\. The cluster vin-ocr-t may still be up; it stops after 30 idle minutes/);
    assert.match(result.stderr, /tear it down: vin-ocr cloud down vin-ocr-t/);
    assert.ok(!result.stderr.includes('\u001b['), 'colours are stripped for a pipe');
    const [launch] = argvLog(log);
    assert.deepEqual(launch!.slice(0, 4), ['launch', '-y', '-c', 'vin-ocr-t']);
    assert.match(launch![4]!, /task\.yaml$/);
    assert.equal(existsSync(launch![4]!), false, 'the staged task is removed after the launch');
  });

  for (const [scenario, code, fix] of [
    ['quota', 'sky-quota', /quota increase/],
    ['capacity', 'sky-capacity', /retry-until-up/],
    ['offline', 'sky-catalog-offline', /Connect to the internet/],
    ['no-credentials', 'no-cloud-credentials', /aws configure/],
  ] as const) {
    it(`a launch that fails (${scenario}) exits 1 with the reason, its fix and a run_finished event`, () => {
      const result = cli(
        ['cloud', 'launch', workspace.path('tiny.yaml'), '--instance', 'g5.xlarge', '--cluster', 'vin-ocr-t', '--sky', STANDIN, '--json'],
        env(scenario),
      );
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`error ${code} `));
      assert.match(result.stderr, fix);
      assert.match(result.stderr, /nothing is running here/);
      const finished = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { event: string; status: string; error: { code: string } };
      assert.deepEqual([finished.event, finished.status, finished.error.code], ['run_finished', 'failed', code]);
      const commands = argvLog(log).map((argv) => argv[0]);
      assert.deepEqual(commands, scenario === 'no-credentials' ? ['launch', 'check'] : ['launch']);
    });
  }

  it('Ctrl+C cancels the job on the cluster and says how to tear it down (exit 130)', async () => {
    const child = spawn(
      process.execPath,
      cliArgs(['cloud', 'launch', workspace.path('tiny.yaml'), '--instance', 'g5.xlarge', '--cluster', 'vin-ocr-c', '--sky', STANDIN]),
      { cwd: ROOT, env: { ...process.env, ...env('ok', { SKY_STANDIN_DELAY_MS: '100' }) } },
    );
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (interrupted || !stderr.includes('Job started')) return;
      interrupted = true;
      child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /run cancelled/);
    assert.match(stderr, /vin-ocr cloud down vin-ocr-c/);
    assert.deepEqual(argvLog(log).at(-1), ['cancel', '-y', 'vin-ocr-c', '1']);
  });

  it('status, logs, down and check wrap sky with our words', () => {
    const status = cli(['cloud', 'status', '--json', '--sky', STANDIN], env());
    assert.deepEqual(
      (JSON.parse(status.stdout) as Array<{ status: string }>).map((cluster) => cluster.status),
      ['UP'],
    );
    assert.equal(cli(['cloud', 'status', 'vin-ocr-x', '--sky', STANDIN], env('offline')).stdout, 'No cluster named vin-ocr-x.\n');
    const logs = cli(['cloud', 'logs', 'vin-ocr-x', '1', '--json', '--sky', STANDIN], env());
    assert.equal(logs.status, 0, logs.stderr);
    assert.equal(logs.stdout.trim().split('\n').length, fixtureText('trainer-events.jsonl').trim().split('\n').length);
    const missingLogs = cli(['cloud', 'logs', 'vin-ocr-x', '--sky', STANDIN], env('offline'));
    assert.equal(missingLogs.status, 1);
    assert.match(missingLogs.stderr, /error sky-cluster-missing/);
    assert.match(cli(['cloud', 'down', 'vin-ocr-x', '--sky', STANDIN], env()).stderr, /cluster vin-ocr-x torn down/);
    assert.match(
      cli(['cloud', 'down', 'vin-ocr-x', '--sky', STANDIN], env('offline')).stderr,
      /no cluster named vin-ocr-x: nothing to tear down/,
    );
    const check = cli(['cloud', 'check', '--sky', STANDIN], env('no-credentials'));
    assert.equal(check.status, 1);
    assert.match(check.stderr, /error no-cloud-credentials/);
    assert.equal(cli(['cloud', 'check', '--sky', STANDIN], env()).stdout, 'AWS: enabled [compute, storage]\n');
  });

  it('tells how to install SkyPilot in its own environment when sky is missing', () => {
    const result = cli(['cloud', 'status'], { PATH: '/usr/bin:/bin', XDG_DATA_HOME: workspace.path('data-home') });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /`sky` was not found/);
    assert.match(result.stderr, /vin-ocr cloud setup --clouds aws/);
    assert.match(result.stderr, /skypilot\[aws\]==0\.14\.1/);
    const given = cli(['cloud', 'status', '--sky', workspace.path('nope')], {});
    assert.match(given.stderr, /does not exist/);
  });
});
