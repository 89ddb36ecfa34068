import * as assert from 'node:assert/strict';
import {
  checkProblem,
  classifySkyFailure,
  eventTextOf,
  parseChosenResources,
  parseJobFinished,
  parseJobId,
  parseJobLine,
  parseRequestCancelHint,
  parseSkyCheck,
  parseSkyStatus,
  stripAnsi,
} from '../../../src/core/cloud/sky-output';
import { parseSkyVersion } from '../../../src/core/cloud/sky';
import { replay } from './helpers';

describe('reading sky check', () => {
  it('finds no enabled cloud on this machine, with SkyPilot’s reason and commands for AWS (recorded)', () => {
    const checked = parseSkyCheck(replay('recorded', 'check'));
    assert.deepEqual(checked.enabled, []);
    assert.ok(checked.clouds.length > 20, `${checked.clouds.length} clouds`);
    const aws = checked.clouds.find((cloud) => cloud.name === 'AWS')!;
    assert.deepEqual(aws, {
      name: 'AWS',
      enabled: false,
      capabilities: [],
      reason: 'AWS dependencies are not installed.',
      commands: ['pip install skypilot[aws]', 'aws configure', 'aws configure list'],
    });
    const problem = checkProblem(checked)!;
    assert.equal(problem.code, 'no-cloud-credentials');
    assert.match(problem.fix, /aws configure/);
    assert.match(problem.fix, /gcloud auth application-default login/);
    assert.match(problem.fix, /az login/);
    const forAws = checkProblem(checked, 'aws')!;
    assert.match(forAws.message, /no working credentials for AWS: AWS dependencies are not installed\./);
    assert.match(forAws.fix, /SkyPilot says to run: pip install skypilot\[aws\]; aws configure; aws configure list/);
  });

  it('reads an enabled cloud (synthesised with sky/check.py’s own printers)', () => {
    const checked = parseSkyCheck(replay('synthesised', 'check-aws-enabled'));
    assert.deepEqual(checked.enabled, ['aws']);
    assert.deepEqual(checked.clouds[0]!.capabilities, ['compute', 'storage']);
    assert.equal(checkProblem(checked), undefined);
    assert.equal(checkProblem(checked, 'aws'), undefined);
    const gcp = checkProblem(checked, 'gcp')!;
    assert.equal(gcp.code, 'cloud-not-enabled');
    assert.match(gcp.message, /GCP tools are not installed/);
  });
});

describe('reading sky status', () => {
  it('reads no clusters from the recordings and one from SkyPilot’s status table', () => {
    assert.deepEqual(parseSkyStatus(replay('recorded', 'status')), []);
    assert.deepEqual(parseSkyStatus(replay('recorded', 'status-unknown')), []);
    assert.deepEqual(parseSkyStatus(replay('synthesised', 'status-up').replaceAll('{{CLUSTER}}', 'vin-ocr-a')), [
      { name: 'vin-ocr-a', status: 'UP', resources: '1x(gpus=A10G:1, cpus=4, mem=16, g5.xlarge, ...)', autostop: '30m' },
    ]);
  });
});

describe('reading sky launch and sky logs', () => {
  it('reads the version, the job id, its end, the chosen instance’s price and the cancel hint', () => {
    assert.equal(parseSkyVersion(replay('recorded', 'version')), '0.14.1');
    const launch = replay('synthesised', 'launch-ok-2nodes');
    assert.equal(
      launch
        .split('\n')
        .map(parseJobId)
        .find((id) => id !== undefined),
      1,
    );
    assert.equal(launch.split('\n').map(parseJobFinished).find(Boolean), 'SUCCEEDED');
    assert.deepEqual(parseChosenResources(launch), { infra: 'AWS (us-east-1)', instance: 'g5.xlarge', gpus: 'A10G:1', costPerHour: 2.02 });
    assert.equal(parseChosenResources(replay('recorded', 'launch-offline')), undefined);
    assert.equal(parseRequestCancelHint(replay('synthesised', 'launch-interrupted')), '1a2b3c4d');
  });

  it('strips SkyPilot’s node prefixes and reads events from rank 0 only', () => {
    const head = parseJobLine('\u001b[36m(head, rank=0, pid=2345) \u001b[0m{"event": "progress"}');
    assert.deepEqual(head, { node: 'head', rank: 0, text: '{"event": "progress"}' });
    assert.equal(eventTextOf(head), '{"event": "progress"}');
    const worker = parseJobLine('(worker1, rank=1, pid=2346, ip=10.0.1.18) {"event": "progress"}');
    assert.deepEqual([worker.node, worker.rank, eventTextOf(worker)], ['worker1', 1, undefined]);
    const single = parseJobLine('(vin-ocr-20261130-043525-baseline-cloud, pid=2345) {"event": "eval"}');
    assert.deepEqual([single.node, eventTextOf(single)], ['vin-ocr-20261130-043525-baseline-cloud', '{"event": "eval"}']);
    assert.equal(parseJobLine('(setup pid=2100) Successfully installed torch').node, 'setup');
    assert.equal(eventTextOf(parseJobLine('(setup pid=2100, ip=10.0.1.18) {"not": "an event"}')), undefined);
    assert.deepEqual(parseJobLine('⠋ Launching\r✓ Cluster launched: x.'), { text: '✓ Cluster launched: x.' });
    assert.equal(stripAnsi('\u001b[1m\u001b[32mUP\u001b[0m'), 'UP');
  });
});

describe('classifySkyFailure', () => {
  const cases: Array<[string, 'recorded' | 'synthesised', string, RegExp]> = [
    ['launch-offline', 'recorded', 'sky-catalog-offline', /offline/],
    ['launch-dryrun-offline', 'recorded', 'sky-catalog-offline', /instance catalog/],
    ['launch-spec-offline', 'recorded', 'sky-catalog-offline', /offline/],
    ['logs-unknown', 'recorded', 'sky-cluster-missing', /no such cluster/],
    ['cancel-unknown', 'recorded', 'sky-cluster-missing', /no such cluster/],
    ['down-unknown', 'recorded', 'sky-cluster-missing', /no such cluster/],
    ['launch-no-credentials', 'synthesised', 'sky-no-cloud', /no cloud enabled/],
    ['launch-quota', 'synthesised', 'sky-quota', /quota .*\(VcpuLimitExceeded\)/],
    ['launch-capacity', 'synthesised', 'sky-capacity', /No capacity .*\(InsufficientInstanceCapacity\)/],
  ];
  for (const [name, folder, code, message] of cases) {
    it(`${name} (${folder}) → ${code}`, () => {
      const problem = classifySkyFailure(replay(folder, name), 1);
      assert.equal(problem.code, code);
      assert.match(problem.message, message);
      assert.ok(problem.fix.length > 20, problem.fix);
    });
  }

  it('reads the cloud errors of quotas and capacity on GCP and Azure too, and a failed setup', () => {
    assert.equal(classifySkyFailure("Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: 0.0 globally.", 1).code, 'sky-quota');
    assert.equal(classifySkyFailure('ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: no a2-highgpu-1g', 1).code, 'sky-capacity');
    assert.equal(classifySkyFailure('SkuNotAvailable: Standard_NC6s_v3 is not available in eastus', 1).code, 'sky-capacity');
    assert.equal(classifySkyFailure("ERROR: Job 1's setup failed. Failed workers: (pid=2100, returncode=1).", 1).code, 'sky-setup-failed');
    assert.equal(classifySkyFailure('Terminating cluster x...failed. \nReason: boom.\nCluster(s) failed.', 0).code, 'sky-down-failed');
    const unknown = classifySkyFailure('something odd\nValueError: unexpected', 3);
    assert.deepEqual([unknown.code, unknown.message], ['sky-failed', 'sky failed (exit code 3): ValueError: unexpected']);
  });
});
