import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { compareMetricNames, exactMatchOf, formatMetric, isBetter, metricInfo } from '../../../src/core/trainer/metrics';
import {
  CHECKPOINT_FOLDER_GLOB,
  CHECKPOINT_GLOB,
  checkpointDisplayName,
  checkpointOfFoundFile,
  PADDLE_CHECKPOINT_GLOB,
  fileNameOf,
  isListedCheckpoint,
  isTensorboardFile,
  RUN_MARKER_GLOB,
  runIdOf,
  runPaths,
} from '../../../src/core/trainer/run-layout';

describe('metrics', () => {
  it('knows each metric’s label, direction and format', () => {
    assert.deepEqual(metricInfo('exact_match'), {
      name: 'exact_match',
      label: 'exact match',
      direction: 'higher-is-better',
      format: 'percent',
    });
    assert.deepEqual(metricInfo('cer'), { name: 'cer', label: 'CER', direction: 'lower-is-better', format: 'number' });
    assert.equal(metricInfo('val_exact_match').label, 'val exact match', 'a split prefix keeps the metric');
    assert.equal(metricInfo('test_cer').direction, 'lower-is-better');
    assert.equal(metricInfo('pos_09_acc').label, 'position 9 accuracy');
    assert.equal(metricInfo('some_new_error').direction, 'lower-is-better', 'unknown metrics follow their name');
  });

  it('writes rates as percent and error rates to four places', () => {
    assert.equal(formatMetric('exact_match', 0.4213), '42.1%');
    assert.equal(formatMetric('char_f1', 0.9), '90.0%');
    assert.equal(formatMetric('pos_01_acc', 0.5), '50.0%');
    assert.equal(formatMetric('exact_match_check_digit', 0.45), '45.0%');
    assert.equal(formatMetric('cer', 0.12345), '0.1235');
    assert.equal(formatMetric('ned', 0.1), '0.1000');
  });

  it('compares values in the metric’s direction and lists the headline metrics first', () => {
    assert.ok(isBetter('cer', 0.1, 0.2) && !isBetter('exact_match', 0.1, 0.2));
    assert.deepEqual(['pos_01_acc', 'char_f1', 'ned', 'cer', 'exact_match'].sort(compareMetricNames), [
      'exact_match',
      'cer',
      'ned',
      'char_f1',
      'pos_01_acc',
    ]);
    assert.equal(exactMatchOf({ exact_match: 0.2, val_exact_match: 0.3 }), 0.3);
    assert.equal(exactMatchOf({ exact_match: 0.2 }), 0.2);
  });
});

describe('run layout', () => {
  it('names the files of a run folder as the trainer writes them', () => {
    const paths = runPaths(join('runs', 'r1'));
    assert.equal(paths.events, join('runs', 'r1', 'events.jsonl'));
    assert.equal(paths.log, join('runs', 'r1', 'train.log'));
    assert.equal(paths.metrics, join('runs', 'r1', 'metrics.json'));
    assert.equal(paths.config, join('runs', 'r1', 'config.yaml'));
    assert.equal(paths.bestCheckpoint, join('runs', 'r1', 'checkpoints', 'best.pt'));
    assert.equal(paths.lastCheckpoint, join('runs', 'r1', 'checkpoints', 'last.pt'));
    assert.equal(RUN_MARKER_GLOB, '**/{events.jsonl,metrics.json}');
    assert.equal(CHECKPOINT_GLOB, '**/checkpoints/*.pt');
    assert.equal(CHECKPOINT_FOLDER_GLOB, '**/checkpoints/{best,last}/checkpoint.json');
    assert.equal(PADDLE_CHECKPOINT_GLOB, '**/checkpoints/{best.json,last.json}');
  });

  it('turns the files the checkpoint searches find into checkpoints of their runs', () => {
    const run = join('/w', 'runs', 'r1');
    const checkpoints = join(run, 'checkpoints');
    assert.deepEqual(checkpointOfFoundFile(join(checkpoints, 'best.pt')), {
      path: join(checkpoints, 'best.pt'),
      runDir: run,
      name: 'best.pt',
      best: true,
      folder: false,
    });
    assert.deepEqual(checkpointOfFoundFile(join(checkpoints, 'last', 'checkpoint.json')), {
      path: join(checkpoints, 'last'),
      runDir: run,
      name: 'last',
      best: false,
      folder: true,
    });
    assert.equal(checkpointOfFoundFile(join(checkpoints, 'best', 'checkpoint.json'))?.best, true);
    assert.deepEqual(checkpointOfFoundFile(join(checkpoints, 'best.json')), {
      path: join(checkpoints, 'best.json'),
      runDir: run,
      name: 'best.json',
      best: true,
      folder: false,
      family: 'paddleocr',
    });
    assert.equal(checkpointOfFoundFile(join(run, 'best.json')), undefined, 'a best.json outside checkpoints/ is no checkpoint');
    for (const stray of [
      join(checkpoints, '.best.pt.x1.tmp'),
      join(checkpoints, '.best.abc', 'checkpoint.json'),
      join(run, 'best.pt'),
      join(run, 'best', 'checkpoint.json'),
      join(checkpoints, 'best', 'trainer_state.pt'),
      join(checkpoints, 'best', 'adapter_config.json'),
    ])
      assert.equal(checkpointOfFoundFile(stray), undefined, stray);
  });

  it('names checkpoints in titles by their run', () => {
    assert.equal(checkpointDisplayName('/w/runs/r1/checkpoints/best.pt'), 'r1/best.pt');
    assert.equal(checkpointDisplayName('C:\\w\\runs\\r1\\checkpoints\\last\\'), 'r1/last');
    assert.equal(checkpointDisplayName('/w/adapter'), 'adapter');
    assert.equal(checkpointDisplayName('model.pt'), 'model.pt');
  });

  it('tells checkpoints, TensorBoard files and run ids apart', () => {
    assert.ok(isListedCheckpoint('best.pt') && !isListedCheckpoint('.best.pt.x1.tmp') && !isListedCheckpoint('last.pt.tmp'));
    assert.ok(isTensorboardFile('events.out.tfevents.1.host') && !isTensorboardFile('events.jsonl'));
    assert.equal(runIdOf('/w/runs/20260101-baseline'), '20260101-baseline');
    assert.equal(fileNameOf('C:\\w\\runs\\r\\checkpoints\\best.pt'), 'best.pt');
  });
});
