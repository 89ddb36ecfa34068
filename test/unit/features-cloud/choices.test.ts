import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterNameFor,
  describeCloudRun,
  estimatedCost,
  newCloudRunId,
  RunFolderWriter,
  type CloudRunRecord,
} from '../../../src/core/cloud/cloud-run';
import { listCloudTargets } from '../../../src/core/cloud/targets';
import { evaluatePolicy } from '../../../src/core/hardware/policy';
import { cloudInstances } from '../../../src/core/hardware/requirements';
import { catalogPrices, parseCatalog, priceOf } from '../../../src/features/cloud/catalog-prices';
import { choiceRow, confirmationText, instanceChoices, validateNodes } from '../../../src/features/cloud/choices';

describe('Train on Cloud: instance choices', () => {
  it('puts the instances DeepSeek-OCR fits best first, with the hardware policy’s own verdict', () => {
    const choices = instanceChoices('deepseek-ocr');
    const order = { optimal: 0, minimum: 1, insufficient: 2 };
    const ranks = choices.map((choice) => order[choice.fit!]);
    assert.deepEqual(ranks, [...ranks].sort(), 'optimal, then minimum, then the ones it does not fit');
    assert.equal(choices.at(-1)!.target.id, 'Standard_NV6ads_A10_v5', 'a sixth of an A10 (4 GB) fits only at the minimum');
    for (const choice of choices) {
      const instance = cloudInstances.find((row) => row.id === choice.target.id)!;
      assert.equal(
        choice.fit,
        evaluatePolicy(instance.facts).models['deepseek-ai/DeepSeek-OCR']!.fit,
        'the verdict is the policy’s, not restated',
      );
    }
  });

  it('orders equally fitting instances by price when the catalog gave prices, keeping the table order otherwise', () => {
    const unpriced = instanceChoices('baseline').map((choice) => choice.target.id);
    assert.deepEqual(
      unpriced,
      listCloudTargets().map((target) => target.id),
      'the baseline fits everywhere: table order',
    );
    const priced = instanceChoices('baseline', new Map([['p3.2xlarge', 0.5]]));
    assert.equal(priced[0]!.target.id, 'p3.2xlarge');
    assert.equal(priced[0]!.price, 0.5);
  });

  it('shows the verdict and the price in words, and a question mark for an unknown model', () => {
    const [choice] = instanceChoices('baseline', new Map([['g4dn.xlarge', 0.526]]));
    const row = choiceRow(choice!, 'baseline');
    assert.match(row.label, /^\$\(pass\) g4dn\.xlarge$/);
    assert.match(row.description, /AWS · from \$0\.53\/h/);
    assert.match(row.detail, /baseline fits \(optimal\) on cuda/);
    const unknown = choiceRow(instanceChoices('no-such-model')[0]!, 'no-such-model');
    assert.match(unknown.label, /^\$\(question\)/);
  });

  it('confirms with the instance, nodes, spot, autostop and that it costs money', () => {
    const target = listCloudTargets().find((candidate) => candidate.id === 'g5.xlarge')!;
    const text = confirmationText({ target, nodes: 2, spot: true, autostopMinutes: 30, price: 1.006, configName: 'baseline.yaml' });
    assert.equal(text.message, 'Train baseline.yaml on g5.xlarge (2 nodes, spot)?');
    assert.match(text.detail, /costs money/);
    assert.match(text.detail, /About \$2\.01 per hour/);
    assert.match(text.detail, /after 30 idle minutes/);
    assert.match(text.detail, /taken back/);
    const off = confirmationText({ target, nodes: 1, spot: false, autostopMinutes: 0, configName: 'b.yaml' });
    assert.match(off.detail, /Autostop is off/);
    assert.match(off.detail, /price is not known/);
  });

  it('accepts 1 to 16 nodes', () => {
    assert.equal(validateNodes('4'), undefined);
    for (const bad of ['0', '17', '2.5', 'two', '']) assert.ok(validateNodes(bad), bad);
  });
});

describe('Train on Cloud: prices from SkyPilot’s local catalog', () => {
  const AWS = [
    'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone',
    'g5.xlarge,A10G,1,4,16,"{}",1.006,0.45,us-east-1,us-east-1a',
    'g5.xlarge,A10G,1,4,16,"{}",1.2,0.5,eu-west-1,eu-west-1a',
  ].join('\n');
  const GCP = [
    'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone',
    'n1-standard-8,,,8,30,0.38,0.08,us-central1,us-central1-a',
    ',T4,1,,,0.35,0.14,us-central1,us-central1-a',
  ].join('\n');

  it('takes the cheapest region, and adds a GPU the cloud prices apart', () => {
    const targets = listCloudTargets();
    const g5 = targets.find((target) => target.id === 'g5.xlarge')!;
    const n1 = targets.find((target) => target.id === 'n1-standard-8+t4')!;
    assert.equal(priceOf(g5, parseCatalog(AWS)), 1.006);
    assert.equal(priceOf(g5, parseCatalog(AWS), true), 0.45);
    assert.ok(Math.abs(priceOf(n1, parseCatalog(GCP))! - 0.73) < 1e-9);
  });

  it('reads only what is on disk: no catalog, no price, no waiting', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vin-ocr-catalog-'));
    assert.equal((await catalogPrices(listCloudTargets(), { catalogRoot: join(root, 'none') })).size, 0);
    mkdirSync(join(root, 'v8', 'aws'), { recursive: true });
    writeFileSync(join(root, 'v8', 'aws', 'vms.csv'), AWS);
    const prices = await catalogPrices(listCloudTargets(), { catalogRoot: root });
    assert.equal(prices.get('g5.xlarge'), 1.006);
    assert.equal(prices.has('a2-highgpu-1g'), false, 'GCP’s catalog was never fetched');
  });
});

describe('cloud run record', () => {
  const record: CloudRunRecord = {
    version: 1,
    cluster: 'vin-ocr-x',
    target: { id: 'g5.xlarge', label: 'g5.xlarge' },
    nodes: 2,
    spot: true,
    autostopMinutes: 30,
    launchedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T11:30:00.000Z',
    state: 'succeeded',
    hourlyPrice: 1,
  };

  it('names runs and clusters so SkyPilot accepts them on every cloud', () => {
    const id = newCloudRunId('LiquidAI/LFM2.5-VL', new Date(2026, 10, 30, 10, 15, 0));
    assert.equal(id, '20261130-101500-liquidai-lfm2-5-vl-cloud');
    const cluster = clusterNameFor(`${id}-with-a-very-long-suffix-beyond-fifty-characters`);
    assert.match(cluster, /^[a-z]([-a-z0-9]{0,48}[a-z0-9])?$/, 'plan.ts’s cluster-name rule');
  });

  it('estimates the cost from the price, the nodes and the time the cluster ran', () => {
    assert.equal(estimatedCost(record), 3);
    assert.equal(estimatedCost({ ...record, hourlyPrice: undefined }), undefined);
    assert.equal(describeCloudRun(record), 'vin-ocr-x · g5.xlarge ×2 · spot · succeeded · ≈ $3.00');
  });

  it('writes streamed lines in batches, so thousands of events are not thousands of writes', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vin-ocr-writer-')), 'run');
    const writer = new RunFolderWriter(dir, 50);
    await writer.create();
    for (let index = 0; index < 1000; index++) writer.event(`{"event":"progress","step":${index}}`);
    writer.logLine('hello');
    await writer.flush();
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 1000);
    assert.equal(readFileSync(join(dir, 'train.log'), 'utf8'), 'hello\n');
  });
});
