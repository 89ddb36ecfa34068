import * as assert from 'node:assert/strict';
import { classifyEvent } from '../../../src/core/trainer/events';

describe('classifyEvent', () => {
  it('types the known events', () => {
    assert.deepEqual(
      classifyEvent({
        event: 'progress',
        time: '2026-11-28T18:00:00Z',
        run_id: 'r1',
        step: 5,
        total_steps: 10,
        epoch: 0.5,
        loss: 0.5,
        lr: 0.001,
        samples_per_sec: 900,
        eta_seconds: 12,
        elapsed_seconds: 3,
      }),
      {
        type: 'progress',
        time: Date.UTC(2026, 10, 28, 18),
        run_id: 'r1',
        step: 5,
        total_steps: 10,
        epoch: 0.5,
        loss: 0.5,
        lr: 0.001,
        samples_per_sec: 900,
        eta_seconds: 12,
      },
    );
    const finished = classifyEvent({
      event: 'run_finished',
      status: 'failed',
      step: 0,
      best_checkpoint: null,
      last_checkpoint: null,
      error: { code: 'out_of_memory', message: 'CUDA out of memory', hint: 'lower batch_size' },
    });
    assert.deepEqual(finished, {
      type: 'run_finished',
      status: 'failed',
      step: 0,
      error_code: 'out_of_memory',
      message: 'CUDA out of memory',
      hint: 'lower batch_size',
    });
    assert.deepEqual(
      classifyEvent({ event: 'checkpoint', path: '/r/checkpoints/best.pt', kind: 'best', step: 6, metrics: { exact_match: 0.5 } }),
      {
        type: 'checkpoint',
        path: '/r/checkpoints/best.pt',
        kind: 'best',
        step: 6,
        metrics: { exact_match: 0.5 },
      },
    );
  });

  it("reads the schema's field names only, not names from before the schema", () => {
    const progress = classifyEvent({
      event: 'progress',
      step: 5,
      max_steps: 10,
      learning_rate: 0.1,
      samples_per_s: 900,
      throughput: 800,
      eta: 12,
      eta_s: 11,
    });
    assert.deepEqual(progress, { type: 'progress', step: 5 }, 'samples_per_s is not read as the rate, nor eta/eta_s as the ETA');
    assert.equal(classifyEvent({ type: 'progress', step: 5 }).type, 'unknown', '`type` is not the event name');
    assert.deepEqual(classifyEvent({ event: 'log', level: 'info', message: 'hi', ts: 1_700_000_000 }), {
      type: 'log',
      level: 'info',
      message: 'hi',
    });
    assert.deepEqual(classifyEvent({ event: 'run_started', precision: 'bf16', max_steps: 10, config_path: '/c.yaml' }), {
      type: 'run_started',
    });
    assert.deepEqual(classifyEvent({ event: 'checkpoint', path: '/r/best.pt', best: true }), { type: 'checkpoint', path: '/r/best.pt' });
    assert.equal(classifyEvent({ event: 'run_finished', outcome: 'completed' }).type, 'unknown');
    assert.deepEqual(
      classifyEvent({ event: 'run_finished', status: 'failed', error_code: 'io_error', message: 'disk full', hint: 'free space' }),
      { type: 'run_finished', status: 'failed' },
    );
    const samples = classifyEvent({ event: 'samples', samples: [{ truth: 'A', prediction: 'A' }], items: [{ label: 'B', pred: 'B' }] });
    assert.deepEqual(samples, { type: 'samples', items: [] });
  });

  it("reads the baseline's input path, its reason and expected rate from run_started", () => {
    const started = {
      event: 'run_started',
      input_path: 'cache',
      input_reason: 'auto: the model on cuda outruns live rendering',
      input_images_per_sec: 20000,
    };
    assert.deepEqual(classifyEvent(started), {
      type: 'run_started',
      input_path: 'cache',
      input_reason: 'auto: the model on cuda outruns live rendering',
      input_images_per_sec: 20000,
    });
    const odd = classifyEvent({ event: 'run_started', input_path: 'tape', input_images_per_sec: null });
    assert.deepEqual(odd, { type: 'run_started' }, 'an unknown path and a null rate are left out');
  });

  it('turns unknown events, non-objects and events missing required fields into unknown', () => {
    assert.deepEqual(classifyEvent({ event: 'gpu_temperature', celsius: 80 }), {
      type: 'unknown',
      name: 'gpu_temperature',
      raw: { event: 'gpu_temperature', celsius: 80 },
    });
    assert.equal(classifyEvent([1, 2]).type, 'unknown');
    assert.equal(classifyEvent(null).type, 'unknown');
    assert.equal(classifyEvent({ event: 'progress', step: 'five' }).type, 'unknown');
    assert.equal(classifyEvent({ event: 'run_finished', status: 'exploded' }).type, 'unknown');
  });

  it('ignores fields it does not know, so a newer trainer can add some', () => {
    assert.deepEqual(classifyEvent({ event: 'warning', code: 'x', message: 'm', fix: null, severity: 3 }), {
      type: 'warning',
      code: 'x',
      message: 'm',
    });
  });

  it('drops non-finite numbers instead of passing NaN to charts', () => {
    const event = classifyEvent({ event: 'eval', step: 3, metrics: { exact_match: 0.5, cer: 'n/a', loss: null } });
    assert.deepEqual(event, { type: 'eval', step: 3, metrics: { exact_match: 0.5 } });
    assert.deepEqual(classifyEvent({ event: 'progress', step: 1, eta_seconds: 'soon' }), { type: 'progress', step: 1 });
    // null is the schema's "no estimate": kept, so that a stale estimate is cleared.
    assert.deepEqual(classifyEvent({ event: 'progress', step: 1, eta_seconds: null }), { type: 'progress', step: 1, eta_seconds: null });
  });

  it('keeps well-formed sample reads only', () => {
    const event = classifyEvent({
      event: 'samples',
      time: '2026-11-28T18:00:00Z',
      items: [
        { image: 'data:image/png;base64,iVBORw0KGgo=', truth: '1HGCM82633A004352', prediction: '1HGCM82633A0O4352', confidence: 0.8 },
        { image: 'javascript:alert(1)', truth: 'A', prediction: 'B' },
        { truth: 7 },
        'x',
      ],
    });
    assert.equal(event.type, 'samples');
    if (event.type !== 'samples') return;
    assert.equal(event.time, Date.UTC(2026, 10, 28, 18));
    assert.equal(event.items.length, 2);
    assert.equal(event.items[0]!.image, 'data:image/png;base64,iVBORw0KGgo=');
    assert.equal(event.items[1]!.image, undefined, 'only image data URLs reach the webview');
  });
});
