// Messages between the extension host and the "Training" webview view, in one place.
// Host → webview: notifications; webview → host: commands. Everything is plain JSON.
import type { BudgetProgress } from '../../src/core/trainer/progress';

export interface RunView {
  key: number;
  label: string;
  status: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
  step: number;
  totalSteps?: number;
  /** Progress against the budget that ends the run, when known (absent in state saved by older versions). */
  progress?: BudgetProgress;
  loss?: number;
  lr?: number;
  samplesPerSecond?: number;
  etaSeconds?: number;
  device?: string;
  attention?: string;
  dtype?: string;
  bestExactMatch?: number;
  lastExactMatch?: number;
  lastCer?: number;
  errorCode?: string;
  errorMessage?: string;
}

export interface SampleView {
  /** A data:image/… URL checked by the host, or absent. */
  image?: string;
  truth: string;
  prediction: string;
  confidence?: number;
}

/** Columns of chart points: [step, value] pairs per series, appended in order. */
export interface SeriesPoints {
  loss: [number, number][];
  lr: [number, number][];
  exactMatch: [number, number][];
  cer: [number, number][];
}

export type HostMessage =
  | { type: 'snapshot'; runs: RunView[]; selected: number | null; series: SeriesPoints; samples: SampleView[] }
  | { type: 'run'; run: RunView }
  | { type: 'points'; key: number; points: SeriesPoints }
  | { type: 'samples'; key: number; step: number | null; samples: SampleView[] };

export type WebviewMessage =
  { type: 'ready' } | { type: 'select'; key: number } | { type: 'cancel'; key: number } | { type: 'showLog' } | { type: 'train' };

/** What the webview keeps across hide/show and reloads (getState/setState). */
export interface TrainingViewState {
  runs: RunView[];
  selected: number | null;
  series: SeriesPoints;
  samples: SampleView[];
}

export function emptySeries(): SeriesPoints {
  return { loss: [], lr: [], exactMatch: [], cer: [] };
}

/** Points kept per series; older ones are thinned (every second point dropped) beyond this. */
export const MAX_POINTS = 4000;

export function appendPoints(target: SeriesPoints, more: SeriesPoints): void {
  for (const key of Object.keys(target) as (keyof SeriesPoints)[]) {
    const list = target[key];
    for (const point of more[key]) list.push(point);
    if (list.length > MAX_POINTS) target[key] = list.filter((_, index) => index % 2 === 0 || index === list.length - 1);
  }
}
