import * as assert from 'node:assert/strict';
import { SkyJobStream } from '../../../src/core/cloud/job-stream';
import type { TrainerEvent } from '../../../src/core/trainer/events';
import { fixtureText, replay } from './helpers';

function streamOf(text: string): { stream: SkyJobStream; events: TrainerEvent[]; jsons: string[]; logs: string[] } {
  const events: TrainerEvent[] = [];
  const jsons: string[] = [];
  const logs: string[] = [];
  const stream = new SkyJobStream({
    onEvent: (event, json) => {
      events.push(event);
      jsons.push(json);
    },
    onLog: (line) => logs.push(line),
  });
  for (const line of text.split('\n')) stream.push(line);
  return { stream, events, jsons, logs };
}

describe('SkyJobStream', () => {
  const trainerEvents = fixtureText('trainer-events.jsonl').trim().split('\n');

  it('hands on exactly the trainer’s events from the head node of a 2-node launch, as the trainer wrote them', () => {
    const { stream, jsons, events, logs } = streamOf(replay('synthesised', 'launch-ok-2nodes'));
    assert.deepEqual(jsons, trainerEvents);
    assert.equal(events.at(-1)?.type, 'run_finished');
    assert.ok(
      logs.some((line) => line.includes('(worker1, rank=1') && line.includes('"event"')),
      'the worker’s event stays a log line',
    );
    assert.deepEqual([stream.jobId, stream.jobStatus, stream.chosen?.costPerHour], [1, 'SUCCEEDED', 2.02]);
    assert.deepEqual(stream.outcome(0, false), { status: 'succeeded', jobId: 1 });
  });

  it('says why a launch failed, and that a cancel is a cancel', () => {
    assert.deepEqual(streamOf(replay('synthesised', 'launch-quota')).stream.outcome(1, false).problem?.code, 'sky-quota');
    assert.deepEqual(streamOf(replay('recorded', 'launch-offline')).stream.outcome(1, false).problem?.code, 'sky-catalog-offline');
    const cancelled = streamOf(replay('synthesised', 'launch-interrupted')).stream;
    assert.equal(cancelled.cancelRequestId, '1a2b3c4d');
    assert.equal(cancelled.outcome(1, true).status, 'cancelled');
  });

  it('prefers the trainer’s own failure, then SkyPilot’s job status', () => {
    const failed = JSON.stringify({
      event: 'run_finished',
      status: 'failed',
      error: { code: 'out_of_memory', message: 'CUDA out of memory', hint: 'Lower training.batch_size.' },
    });
    const trainer = streamOf(['⚙︎ Job submitted, ID: 4', `(head, rank=0, pid=1) ${failed}`, '✓ Job finished (status: FAILED).'].join('\n'));
    assert.deepEqual(trainer.stream.outcome(100, false), {
      status: 'failed',
      jobId: 4,
      problem: { code: 'out_of_memory', message: 'CUDA out of memory', fix: 'Lower training.batch_size.' },
    });
    const setup = streamOf(
      [
        '⚙︎ Job submitted, ID: 2',
        "ERROR: Job 2's setup failed. Failed workers: (pid=9, returncode=1).",
        '✓ Job finished (status: FAILED_SETUP).',
      ].join('\n'),
    );
    assert.equal(setup.stream.outcome(100, false).problem?.code, 'sky-setup-failed');
    const lost = streamOf(['⚙︎ Job submitted, ID: 3', '✓ Job finished (status: FAILED_DRIVER).'].join('\n'));
    assert.equal(lost.stream.outcome(100, false).problem?.code, 'job-failed');
  });
});
