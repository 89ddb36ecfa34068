import * as assert from 'node:assert/strict';
import { cloudInstances } from '../../../src/core/hardware/requirements';
import { listCloudTargets, resolveCloudTarget, targetFacts } from '../../../src/core/cloud/targets';

describe('cloud targets', () => {
  it('resolves every instance of the table to its SkyPilot resources, ignoring case', () => {
    for (const instance of cloudInstances) {
      const resolution = resolveCloudTarget(instance.id.toUpperCase());
      assert.ok(resolution.ok, instance.id);
      assert.equal(resolution.target.id, instance.id);
      assert.equal(resolution.target.cloud, instance.sky.cloud);
      assert.equal(resolution.target.instanceType, instance.sky.instance_type);
      assert.equal(resolution.target.accelerators, instance.sky.accelerators);
      assert.equal(resolution.target.gpusPerNode, 1);
    }
    assert.equal(listCloudTargets().length, cloudInstances.length);
  });

  it('maps the table to the clouds and instance types SkyPilot knows', () => {
    const byId = Object.fromEntries(listCloudTargets().map((target) => [target.id, target]));
    assert.deepEqual(
      { cloud: byId['n1-standard-8+t4']!.cloud, type: byId['n1-standard-8+t4']!.instanceType, gpu: byId['n1-standard-8+t4']!.accelerators },
      { cloud: 'gcp', type: 'n1-standard-8', gpu: 'T4:1' },
    );
    // A sixth of an A10: SkyPilot's catalog says A10:0.167, so the instance type alone asks for it.
    assert.equal(byId['Standard_NV6ads_A10_v5']!.accelerators, undefined);
    assert.equal(byId['g5.xlarge']!.vramMib, 23028);
  });

  it('takes accelerator specs: NAME:COUNT, or a bare name the table knows', () => {
    const a100 = resolveCloudTarget('A100:8');
    assert.ok(a100.ok);
    assert.deepEqual(
      { accelerators: a100.target.accelerators, gpus: a100.target.gpusPerNode, cloud: a100.target.cloud, type: a100.target.instanceType },
      { accelerators: 'A100:8', gpus: 8, cloud: undefined, type: undefined },
    );
    assert.equal(a100.target.vramMib, 40960);
    const t4 = resolveCloudTarget('t4');
    assert.ok(t4.ok);
    assert.equal(t4.target.accelerators, 'T4:1');
    const h100 = resolveCloudTarget('H100:8');
    assert.ok(h100.ok, 'an accelerator the table does not list is passed on to SkyPilot');
    assert.equal(h100.target.vramMib, undefined);
  });

  it('answers an unknown instance with the known ids, the spec syntax and the nearest id', () => {
    const typo = resolveCloudTarget('g5.xlarg');
    assert.ok(!typo.ok);
    assert.equal(typo.problem.code, 'unknown-instance');
    assert.match(typo.problem.message, /g4dn\.xlarge, g5\.xlarge, p3\.2xlarge/);
    assert.match(typo.problem.fix, /Did you mean g5\.xlarge\?/);
    assert.match(typo.problem.fix, /NAME:COUNT, e\.g\. A100:8/);
    const unrelated = resolveCloudTarget('my-own-box');
    assert.ok(!unrelated.ok);
    assert.doesNotMatch(unrelated.problem.fix, /Did you mean/);
  });

  it('refuses GPU counts no instance has', () => {
    for (const spec of ['A100:0', 'A100:64']) {
      const resolution = resolveCloudTarget(spec);
      assert.ok(!resolution.ok, spec);
      assert.equal(resolution.problem.code, 'bad-accelerator-count');
    }
  });

  it('judges fit against the instance’s facts, or a table GPU times the count for a spec', () => {
    const g5 = resolveCloudTarget('g5.xlarge');
    assert.ok(g5.ok);
    assert.equal(targetFacts(g5.target)?.gpus[0]?.name, 'NVIDIA A10G');
    const spec = resolveCloudTarget('V100:4');
    assert.ok(spec.ok);
    assert.equal(targetFacts(spec.target)?.gpus.length, 4);
    const unknown = resolveCloudTarget('H100:1');
    assert.ok(unknown.ok);
    assert.equal(targetFacts(unknown.target), undefined);
  });
});
