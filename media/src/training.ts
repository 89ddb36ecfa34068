// "Training" view front-end: draws live charts (uPlot), the run's numbers and recent sample reads.
// Incoming points are appended at once but drawn at most once per animation frame, so a trainer
// sending 1,000 events a second costs one redraw per frame. All data reaches the DOM as text.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from './dom';
import {
  appendPoints,
  emptySeries,
  type HostMessage,
  type RunView,
  type SampleView,
  type SeriesPoints,
  type TrainingViewState,
  type WebviewMessage,
} from './training-protocol';
import { acquireTypedVsCodeApi } from './vscode-api';
import { CER, EXACT_MATCH, formatPercent, metricInfo } from '../../src/core/trainer/metrics';
import { budgetProgressText, stepCountText } from '../../src/core/trainer/progress';
import { formatDuration } from '../../src/core/trainer/run-state';

const vscode = acquireTypedVsCodeApi<WebviewMessage, TrainingViewState>();
const app = document.getElementById('app') as HTMLElement;
let state: TrainingViewState = vscode.getState() ?? { runs: [], selected: null, series: emptySeries(), samples: [] };

// ---------- helpers (all data reaches the DOM through el: text only, never innerHTML) ----------

function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function formatEta(seconds: number | undefined): string {
  return seconds === undefined ? '–' : formatDuration(seconds * 1000);
}

const percent = (value: number | undefined) => (value === undefined ? '–' : formatPercent(value));

// ---------- static layout ----------

const runPicker = el('select', { class: 'run-picker', 'aria-label': 'Training run' });
const statusBadge = el('span', { class: 'status' });
const cancelButton = el('button', { class: 'secondary' }, 'Cancel');
const logButton = el('button', { class: 'secondary' }, 'Show Log');
const header = el('header', { class: 'toolbar' }, runPicker, statusBadge, cancelButton, logButton);

const trainButton = el('button', {}, 'Train…');
const empty = el(
  'section',
  { class: 'empty' },
  el('p', {}, 'No training in this window yet. Start one from a training config.'),
  trainButton,
);

const stats = el('dl', { class: 'stats' });
const statValues = new Map<string, HTMLElement>();
for (const [key, label] of [
  ['step', 'Step'],
  ['progress', 'Progress'],
  ['loss', 'Loss'],
  ['throughput', 'Throughput'],
  ['eta', 'ETA'],
  ['exact', 'Exact match (best)'],
  ['device', 'Device'],
] as const) {
  const value = el('dd', { class: 'value' }, '–');
  stats.append(el('div', { class: 'stat' }, el('dt', {}, label), value));
  statValues.set(key, value);
}
const progressBar = el('progress', { class: 'progress', max: '1', 'aria-label': 'Training progress' });
const errorBox = el('p', { class: 'error', role: 'alert' });

const charts = el('section', { class: 'charts' });
const samplesList = el('ol', { class: 'sample-list' });
const samplesSection = el('section', { class: 'samples' }, el('h3', {}, 'Recent reads'), samplesList);
const main = el('div', { class: 'main' }, stats, progressBar, errorBox, charts, samplesSection);
app.append(header, empty, main);

runPicker.addEventListener('change', () => vscode.postMessage({ type: 'select', key: Number(runPicker.value) }));
cancelButton.addEventListener('click', () => state.selected !== null && vscode.postMessage({ type: 'cancel', key: state.selected }));
logButton.addEventListener('click', () => vscode.postMessage({ type: 'showLog' }));
trainButton.addEventListener('click', () => vscode.postMessage({ type: 'train' }));

// ---------- charts ----------

interface Chart {
  plot: uPlot;
  data(series: SeriesPoints): uPlot.AlignedData;
}

function makeChart(
  title: string,
  lines: { label: string; colour: string }[],
  data: (series: SeriesPoints) => uPlot.AlignedData,
  log = false,
): Chart {
  const holder = el('div', { class: 'plot' });
  charts.append(el('figure', { class: 'chart' }, el('figcaption', {}, title), holder));
  const foreground = themeColour('--vscode-foreground', '#ccc');
  const grid = themeColour('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const axis = { stroke: foreground, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px sans-serif' };
  const plot = new uPlot(
    {
      width: Math.max(200, holder.clientWidth || 300),
      height: 150,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      axes: [axis, { ...axis, size: 55 }],
      series: [
        { label: 'step' },
        ...lines.map((line) => ({ label: line.label, stroke: line.colour, width: 1.5, spanGaps: true, points: { show: false } })),
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
    },
    [[], ...lines.map(() => [])],
    holder,
  );
  return { plot, data };
}

/** Joins series recorded at possibly different steps into one x axis (uPlot wants aligned columns). */
function aligned(...columns: [number, number][][]): uPlot.AlignedData {
  const steps = [...new Set(columns.flatMap((column) => column.map(([step]) => step)))].sort((a, b) => a - b);
  const lookups = columns.map((column) => new Map(column));
  return [steps, ...lookups.map((lookup) => steps.map((step) => lookup.get(step) ?? null))];
}

const chartList: Chart[] = [
  makeChart('Loss', [{ label: 'loss', colour: themeColour('--vscode-charts-red', '#f14c4c') }], (s) => aligned(s.loss)),
  makeChart(
    'Validation',
    [
      { label: metricInfo(EXACT_MATCH).label, colour: themeColour('--vscode-charts-green', '#89d185') },
      { label: metricInfo(CER).label, colour: themeColour('--vscode-charts-orange', '#d18616') },
    ],
    (s) => aligned(s.exactMatch, s.cer),
  ),
  makeChart('Learning rate', [{ label: 'lr', colour: themeColour('--vscode-charts-blue', '#3794ff') }], (s) => aligned(s.lr)),
];

new ResizeObserver(() => {
  for (const chart of chartList) {
    const width = (chart.plot.root.parentElement?.clientWidth ?? 300) - 4;
    if (width > 100 && Math.abs(width - chart.plot.width) > 2) chart.plot.setSize({ width, height: 150 });
  }
}).observe(charts);

// ---------- rendering, coalesced per frame ----------

let frameRequested = false;
let chartsDirty = true;
let panelDirty = true;
let samplesDirty = true;

function requestDraw(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    if (panelDirty) drawPanel();
    if (chartsDirty) for (const chart of chartList) chart.plot.setData(chart.data(state.series));
    if (samplesDirty) drawSamples();
    panelDirty = chartsDirty = samplesDirty = false;
    vscode.setState(state);
  });
}

function selectedRun(): RunView | undefined {
  return state.runs.find((run) => run.key === state.selected);
}

function drawPanel(): void {
  const run = selectedRun();
  empty.hidden = state.runs.length > 0;
  main.hidden = header.hidden = !run;
  if (!run) return;
  // Rebuild the picker only when the set of runs changed (keeps keyboard focus stable).
  const signature = state.runs.map((r) => `${r.key}:${r.label}:${r.status}`).join('|');
  if (runPicker.dataset.signature !== signature) {
    runPicker.replaceChildren(...state.runs.map((r) => el('option', { value: String(r.key) }, `${r.label} (${r.status})`)));
    runPicker.dataset.signature = signature;
  }
  runPicker.value = String(run.key);
  statusBadge.textContent = run.status;
  statusBadge.className = `status status-${run.status}`;
  cancelButton.hidden = run.status !== 'running' && run.status !== 'queued';
  // The step total only where the step budget ends the run; the progress stat names the binding budget.
  statValues.get('step')!.textContent = stepCountText({ step: run.step, totalSteps: run.totalSteps, budget: run.progress?.budget }, ' / ');
  statValues.get('progress')!.textContent = run.progress ? budgetProgressText(run.progress) : '–';
  statValues.get('loss')!.textContent = run.loss === undefined ? '–' : run.loss.toFixed(4);
  statValues.get('throughput')!.textContent = run.samplesPerSecond === undefined ? '–' : `${Math.round(run.samplesPerSecond)} img/s`;
  statValues.get('eta')!.textContent = run.status === 'running' ? formatEta(run.etaSeconds) : '–';
  statValues.get('exact')!.textContent = `${percent(run.lastExactMatch)} (${percent(run.bestExactMatch)})`;
  statValues.get('device')!.textContent = run.device ? `${run.device} · ${run.attention ?? '?'} · ${run.dtype ?? '?'}` : '–';
  progressBar.value = run.progress?.fraction ?? 0;
  errorBox.hidden = run.status !== 'failed';
  errorBox.textContent = run.status === 'failed' ? `${run.errorCode ?? 'failed'}: ${run.errorMessage ?? ''}` : '';
}

/** The prediction with each character that differs from the truth marked (wrong, missing or extra). */
function predictionWithMistakes(truth: string, prediction: string): HTMLElement {
  const line = el('span', { class: 'prediction' });
  const length = Math.max(truth.length, prediction.length);
  for (let index = 0; index < length; index++) {
    const char = prediction[index] ?? '·';
    if (char === truth[index]) line.append(char);
    else {
      line.append(el('mark', { class: 'wrong', title: truth[index] ? `expected ${truth[index]}` : 'extra character' }, char));
    }
  }
  return line;
}

function drawSamples(): void {
  samplesSection.hidden = state.samples.length === 0;
  samplesList.replaceChildren(
    ...state.samples.map((sample: SampleView) => {
      const correct = sample.truth === sample.prediction;
      return el(
        'li',
        { class: correct ? 'sample correct' : 'sample incorrect' },
        sample.image?.startsWith('data:image/') && el('img', { src: sample.image, alt: `VIN image, truth ${sample.truth}` }),
        el('span', { class: 'truth' }, sample.truth),
        predictionWithMistakes(sample.truth, sample.prediction),
        el('span', { class: 'verdict', 'aria-label': correct ? 'correct' : 'wrong' }, correct ? '✓' : '✗'),
        sample.confidence !== undefined && el('span', { class: 'confidence' }, percent(sample.confidence)),
      );
    }),
  );
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message?.type) {
    case 'snapshot':
      if (message.runs.length === 0 && state.runs.length > 0) {
        // A reloaded window has no live runs: keep showing the last one from saved state. Closing the window
        // stopped any run that was still going, so it is shown as cancelled rather than running forever.
        state.runs = state.runs.map((run) => (run.status === 'running' || run.status === 'queued' ? { ...run, status: 'cancelled' } : run));
      } else {
        state = { runs: message.runs, selected: message.selected, series: message.series, samples: message.samples };
      }
      panelDirty = chartsDirty = samplesDirty = true;
      break;
    case 'run': {
      const index = state.runs.findIndex((run) => run.key === message.run.key);
      if (index === -1) state.runs.push(message.run);
      else state.runs[index] = message.run;
      panelDirty = true;
      break;
    }
    case 'points':
      if (message.key !== state.selected) return;
      appendPoints(state.series, message.points);
      chartsDirty = true;
      break;
    case 'samples':
      if (message.key !== state.selected) return;
      state.samples = message.samples;
      samplesDirty = true;
      break;
    default:
      return;
  }
  requestDraw();
});

requestDraw();
vscode.postMessage({ type: 'ready' });
