import * as assert from 'node:assert/strict';
import { classifyEvent } from '../../../src/core/trainer/events';

describe('classifyEvent', () => {
  it('types the known events', () => {
    assert.deepEqual(classifyEvent({ type: 'progress', step: 5, total_steps: 10, loss: 0.5, lr: 0.001, samples_per_s: 900, eta_s: 12 }), {
      type: 'progress', step: 5, total_steps: 10, loss: 0.5, lr: 0.001, samples_per_s: 900, eta_s: 12,
    });
    const finished = classifyEvent({ type: 'run_finished', status: 'failed', error: { code: 'out_of_memory', message: 'CUDA out of memory', hint: 'lower batch_size' } });
    assert.deepEqual(finished, { type: 'run_finished', status: 'failed', error_code: 'out_of_memory', message: 'CUDA out of memory', hint: 'lower batch_size' });
  });

  it('turns unknown types, non-objects and events missing required fields into unknown', () => {
    assert.equal(classifyEvent({ type: 'gpu_temperature', celsius: 80 }).type, 'unknown');
    assert.equal(classifyEvent([1, 2]).type, 'unknown');
    assert.equal(classifyEvent(null).type, 'unknown');
    assert.equal(classifyEvent({ type: 'progress', step: 'five' }).type, 'unknown');
    assert.equal(classifyEvent({ type: 'run_finished', status: 'exploded' }).type, 'unknown');
  });

  it('drops non-finite numbers instead of passing NaN to charts', () => {
    const event = classifyEvent({ type: 'eval', step: 3, metrics: { exact_match: 0.5, cer: 'n/a', loss: null } });
    assert.deepEqual(event, { type: 'eval', step: 3, metrics: { exact_match: 0.5 } });
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
    assert.equal(event.samples.length, 2);
    assert.equal(event.samples[0]!.image, 'data:image/png;base64,iVBORw0KGgo=');
    assert.equal(event.samples[1]!.image, undefined, 'only image data URLs reach the webview');
  });
});
