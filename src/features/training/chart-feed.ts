// What the Training view shows, computed without VS Code (the benchmark drives it in plain Node):
// a run's numbers as a RunView, and chart points collected per run and handed out in batches.
import type { TrainerEvent } from '../../core/trainer/events';
import { CER, EXACT_MATCH } from '../../core/trainer/metrics';
import { budgetProgress } from '../../core/trainer/progress';
import type { LiveRun } from '../../core/trainer/run-manager';
import { appendPoints, emptySeries, type RunView, type SampleView, type SeriesPoints } from '../../../media/src/training-protocol';

export function runView(run: LiveRun, now = Date.now()): RunView {
  const state = run.state;
  const progress = state.status === 'queued' ? undefined : budgetProgress(state, now);
  return {
    key: run.key,
    label: run.request.label,
    status: state.status,
    step: state.step,
    totalSteps: state.totalSteps,
    ...(progress ? { progress } : {}),
    loss: state.loss,
    lr: state.lr,
    samplesPerSecond: state.samplesPerSecond,
    etaSeconds: state.etaSeconds,
    device: state.device,
    attention: state.attention,
    dtype: state.dtype,
    bestExactMatch: state.bestMetrics[EXACT_MATCH],
    lastExactMatch: state.lastMetrics[EXACT_MATCH],
    lastCer: state.lastMetrics[CER],
    errorCode: state.errorCode,
    errorMessage: state.errorMessage,
  };
}

/** Collects chart points per run and hands them out in batches. */
export class ChartFeed {
  private readonly history = new Map<number, SeriesPoints>();
  private readonly pending = new Map<number, SeriesPoints>();
  private readonly samples = new Map<number, { step: number | null; samples: SampleView[] }>();

  add(run: LiveRun, event: TrainerEvent): boolean {
    let points: SeriesPoints | undefined;
    const batch = () => {
      points = this.pending.get(run.key);
      if (!points) this.pending.set(run.key, (points = emptySeries()));
      return points;
    };
    if (event.type === 'progress') {
      if (event.loss !== undefined) batch().loss.push([event.step, event.loss]);
      if (event.lr !== undefined) batch().lr.push([event.step, event.lr]);
    } else if (event.type === 'eval' && event.split !== 'test') {
      const step = event.step ?? run.state.step;
      const exactMatch = event.metrics[EXACT_MATCH];
      const cer = event.metrics[CER];
      if (exactMatch !== undefined) batch().exactMatch.push([step, exactMatch]);
      if (cer !== undefined) batch().cer.push([step, cer]);
    } else if (event.type === 'samples') {
      this.samples.set(run.key, { step: event.step ?? null, samples: event.items.map((sample) => ({ ...sample })) });
      return true;
    }
    return points !== undefined;
  }

  /** Moves pending points into the history and returns them (per run). */
  drain(): Map<number, SeriesPoints> {
    const drained = new Map(this.pending);
    this.pending.clear();
    for (const [key, points] of drained) {
      const history = this.history.get(key) ?? emptySeries();
      appendPoints(history, points);
      this.history.set(key, history);
    }
    return drained;
  }

  historyOf(key: number): SeriesPoints {
    return this.history.get(key) ?? emptySeries();
  }

  samplesOf(key: number): { step: number | null; samples: SampleView[] } {
    return this.samples.get(key) ?? { step: null, samples: [] };
  }
}
