import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cloudInstallCommands, planCloudRun, REMOTE_RUNS_DIR, removeStaging } from '../../../src/core/cloud/plan';
import { planDatasets, REMOTE_DATA_ROOT, type PathKind } from '../../../src/core/cloud/datasets';
import type { CloudPlan, CloudPlanRequest, CloudPlanResult } from '../../../src/core/cloud/types';
import { TRAINER_DIR, Workspace } from './helpers';

type Task = {
  name: string;
  resources: Record<string, unknown>;
  num_nodes: number;
  workdir: string;
  file_mounts?: Record<string, string>;
  envs: Record<string, string>;
  setup: string;
  run: string;
};

function planned(result: CloudPlanResult): CloudPlan {
  if (!result.ok) assert.fail(`expected a plan, got ${JSON.stringify(result.problems, null, 2)}`);
  return result.plan;
}

function problemsOf(result: CloudPlanResult): string[] {
  assert.ok(!result.ok, 'expected problems');
  return result.problems.map((problem) => `${problem.line ?? '-'} ${problem.code}`);
}

describe('planCloudRun', () => {
  let workspace: Workspace;
  const request = (overrides: Partial<CloudPlanRequest> = {}): CloudPlanRequest => ({
    configPath: workspace.path('tiny.yaml'),
    instance: 'g5.xlarge',
    trainerDir: TRAINER_DIR,
    stagingRoot: workspace.staging,
    ...overrides,
  });

  beforeEach(() => (workspace = new Workspace()));
  afterEach(() => workspace.dispose());

  it('writes a SkyPilot task for g5.xlarge on 2 nodes: resources, torchrun with the node variables, autostop', async () => {
    const plan = planned(await planCloudRun(request({ nodes: 2, clusterName: 'vin-ocr-test' })));
    const task = parse(plan.taskYaml) as Task;
    assert.equal(task.name, 'vin-ocr-test');
    assert.deepEqual(task.resources, {
      infra: 'aws',
      instance_type: 'g5.xlarge',
      accelerators: 'A10G:1',
      use_spot: false,
      autostop: { idle_minutes: 30 },
    });
    assert.equal(task.num_nodes, 2);
    assert.equal(task.workdir, plan.workdir);
    const trainer =
      'python -m vin_ocr train tiny.yaml --nnodes "$SKYPILOT_NUM_NODES" --node-rank "$SKYPILOT_NODE_RANK" ' +
      '--nproc-per-node "$SKYPILOT_NUM_GPUS_PER_NODE" --rdzv-endpoint "$(echo "$SKYPILOT_NODE_IPS" | head -n1):29500" --events -';
    assert.ok(task.run.split('\n').includes(trainer), task.run);
    assert.match(task.run, /export PYTHONPATH="\$PWD\/trainer/);
    assert.equal(task.envs.PYTHONUNBUFFERED, '1');
    assert.equal(readFileSync(plan.taskFile!, 'utf8'), plan.taskYaml);
    assert.deepEqual(
      { nodes: plan.nodes, autostop: plan.autostopMinutes, spot: plan.spot, runs: plan.remoteRunDir },
      {
        nodes: 2,
        autostop: 30,
        spot: false,
        runs: REMOTE_RUNS_DIR,
      },
    );
  });

  it('installs the family’s CUDA packages from data/requirements.json in a venv on every node', async () => {
    const task = parse(planned(await planCloudRun(request())).taskYaml) as Task;
    assert.equal(
      task.setup,
      [
        'set -e',
        '[ -x ~/vin-ocr-venv/bin/python ] || python3 -m venv ~/vin-ocr-venv',
        'source ~/vin-ocr-venv/bin/activate',
        'python -m pip install --upgrade pip',
        'pip install torch numpy Pillow PyYAML tensorboard',
      ].join('\n'),
    );
    // The VLM families also get the trainer's own requirement file (peft, accelerate), staged with the trainer.
    assert.deepEqual(cloudInstallCommands('lfm2-vl').slice(-1), ['pip install -r trainer/requirements-hf.txt']);
    assert.ok(cloudInstallCommands('deepseek-ocr').includes('pip install flash-attn==2.7.3 --no-build-isolation'));
  });

  it('stages only what `python -m vin_ocr` needs, and a config pointing at the mounts and the remote runs folder', async () => {
    workspace.write('data/labels.txt', 'images/a.png\t1HGCM82633A004352\n');
    const config = workspace.config('labelled.yaml', { 'train: synthetic': 'train: data/labels.txt  # the labelled set' });
    const plan = planned(await planCloudRun(request({ configPath: config })));
    const staged = readdirSync(plan.workdir).sort();
    assert.deepEqual(staged, ['data', 'labelled.yaml', 'trainer']);
    assert.ok(existsSync(join(plan.workdir, 'trainer', 'vin_ocr', '__main__.py')));
    assert.ok(existsSync(join(plan.workdir, 'trainer', 'stubs', 'flash_attn_stub', 'pyproject.toml')));
    assert.ok(existsSync(join(plan.workdir, 'data', 'requirements.json')));
    const files = readdirSync(join(plan.workdir, 'trainer'), { recursive: true }) as string[];
    assert.deepEqual(
      files.filter((file) => /__pycache__|\.pyc$|(^|\/)tests(\/|$)|egg-info/.test(file)),
      [],
    );
    const remote = readFileSync(join(plan.workdir, 'labelled.yaml'), 'utf8');
    assert.match(remote, /train: \/vin-ocr\/data\/train\/labels\.txt # the labelled set/);
    assert.match(remote, /output_dir: ~\/vin-ocr-runs/);
    assert.deepEqual(plan.fileMounts, { [`${REMOTE_DATA_ROOT}/train`]: workspace.path('data') });
    assert.deepEqual((parse(plan.taskYaml) as Task).file_mounts, plan.fileMounts);
    await removeStaging(plan);
    assert.equal(existsSync(plan.stagingDir!), false);
  });

  it('mounts bucket URIs and image folders; one mount per folder', async () => {
    workspace.write('images/a.png', 'png');
    const config = workspace.config('buckets.yaml', {
      'train: synthetic': 'train: s3://vin-bucket/sets/train',
      'val: synthetic': 'val: gs://vin-bucket/val/labels.txt',
      'test: null': 'test: images',
    });
    const plan = planned(await planCloudRun(request({ configPath: config })));
    assert.deepEqual(plan.fileMounts, {
      '/vin-ocr/data/train': 's3://vin-bucket/sets/train',
      '/vin-ocr/data/val': 'gs://vin-bucket/val',
      '/vin-ocr/data/test': workspace.path('images'),
    });
    const remote = parse(readFileSync(join(plan.workdir, 'buckets.yaml'), 'utf8')) as { data: Record<string, string> };
    assert.deepEqual(
      [remote.data.train, remote.data.val, remote.data.test],
      ['/vin-ocr/data/train', '/vin-ocr/data/val/labels.txt', '/vin-ocr/data/test'],
    );
  });

  it('asks for spot instances torn down when idle, or no autostop at all', async () => {
    const spot = parse(planned(await planCloudRun(request({ spot: true, autostopMinutes: 10 }))).taskYaml) as Task;
    assert.deepEqual([spot.resources.use_spot, spot.resources.autostop], [true, { idle_minutes: 10, down: true }]);
    const never = parse(planned(await planCloudRun(request({ autostopMinutes: 0 }))).taskYaml) as Task;
    assert.equal(never.resources.autostop, false);
  });

  it('lets SkyPilot choose the cloud for an accelerator spec', async () => {
    const task = parse(planned(await planCloudRun(request({ instance: 'A100:8' }))).taskYaml) as Task;
    assert.deepEqual(task.resources, { accelerators: 'A100:8', use_spot: false, autostop: { idle_minutes: 30 } });
  });

  it('says every mistake of the request at once, our way, before anything is staged', async () => {
    const missing = workspace.config('missing.yaml', { 'train: synthetic': 'train: data/nowhere/labels.txt' });
    const result = await planCloudRun(request({ configPath: missing, instance: 'g5.xlarg', nodes: 0, clusterName: 'Bad_Name' }));
    assert.deepEqual(problemsOf(result).sort(), ['- bad-cluster-name', '- bad-nodes', '- unknown-instance', '8 dataset-missing'].sort());
    assert.ok(!result.ok);
    const dataset = result.problems.find((problem) => problem.code === 'dataset-missing')!;
    assert.equal(dataset.file, missing);
    assert.match(dataset.fix, /bucket URI such as s3:\/\/bucket\/vins/);
    assert.equal(existsSync(workspace.staging), false);
  });

  it('passes on the config validator’s errors with their lines', async () => {
    const invalid = workspace.config('invalid.yaml', { 'batch_size: 8': 'batch_size: 0', max_stepz: 'x' });
    const problems = problemsOf(await planCloudRun(request({ configPath: invalid })));
    assert.deepEqual(problems, ['21 out-of-range']);
    const notAConfig = workspace.write('other.yaml', 'hello: world\n');
    assert.deepEqual(problemsOf(await planCloudRun(request({ configPath: notAConfig }))), ['- not-a-training-config']);
    assert.deepEqual(problemsOf(await planCloudRun(request({ configPath: workspace.path('none.yaml') }))), ['- config-missing']);
  });

  it('refuses URIs SkyPilot cannot mount and model folders the nodes cannot see', async () => {
    const config = workspace.config('remote.yaml', {
      'train: synthetic': 'train: http://example.com/labels.txt',
      '  type: baseline': '  type: lfm2-vl\n  model_id: ./my-model',
    });
    assert.deepEqual(problemsOf(await planCloudRun(request({ configPath: config }))).sort(), [
      '4 local-model-path',
      '9 dataset-uri-unsupported',
    ]);
  });

  it('refuses a PaddleOCR config: its clone and PaddlePaddle environment are not staged on the nodes', async () => {
    const config = workspace.config('paddle.yaml', { '  type: baseline': '  type: paddleocr' });
    const problems = problemsOf(await planCloudRun(request({ configPath: config })));
    assert.ok(problems.includes('3 paddleocr-not-on-cloud'), problems.join(', '));
  });

  it('judges the config against the instance’s hardware: a warning, the run still planned', async () => {
    const config = workspace.config('flash.yaml', { '  type: baseline': '  type: lfm2-vl\n  attn_implementation: flash_attention_2' });
    const plan = planned(await planCloudRun(request({ configPath: config, instance: 'p3.2xlarge' })));
    assert.deepEqual(
      plan.warnings?.map((warning) => `${warning.line} ${warning.code}`),
      ['4 attention-unavailable'],
    );
    assert.match(plan.warnings![0]!.message, /^On p3\.2xlarge: .*compute capability 7\.0/);
  });
});

describe('planDatasets', () => {
  const kinds: Record<string, PathKind> = { '/w/data': 'directory', '/w/data/labels.txt': 'file', '/w/images': 'directory' };
  const kind = (path: string) => kinds[path];

  it('shares one mount between keys in the same folder and keeps synthetic data unmounted', () => {
    const plan = planDatasets(
      [
        { key: 'train', value: 'data/labels.txt' },
        { key: 'val', value: 'synthetic' },
        { key: 'test', value: 'data' },
      ],
      '/w/config.yaml',
      kind,
    );
    assert.deepEqual(plan, {
      fileMounts: { '/vin-ocr/data/train': '/w/data' },
      rewritten: { train: '/vin-ocr/data/train/labels.txt', test: '/vin-ocr/data/train' },
      problems: [],
    });
  });

  it('mounts Azure containers and R2 buckets, whole or through a labels file’s prefix', () => {
    const plan = planDatasets(
      [
        { key: 'train', value: 'https://acct.blob.core.windows.net/vins/train/labels.txt' },
        { key: 'val', value: 'r2://vins' },
      ],
      '/w/config.yaml',
      kind,
    );
    assert.deepEqual(plan.fileMounts, {
      '/vin-ocr/data/train': 'https://acct.blob.core.windows.net/vins/train',
      '/vin-ocr/data/val': 'r2://vins',
    });
    assert.equal(plan.rewritten.train, '/vin-ocr/data/train/labels.txt');
  });
});
