// The metrics runs report (trainer/vin_ocr/metrics.py and training/evaluate.py): their names,
// how they are labelled, which direction is better and how they are written. The Runs tree, the
// Training view, compare, the outcome messages and the CLI all read them from here.
// Plain data and functions only: the Training view's webview bundles this file too.

export type MetricDirection = 'higher-is-better' | 'lower-is-better';
/** `percent`: a 0..1 rate written as 42.0 %; `number`: an error rate or distance written to 4 places. */
export type MetricFormat = 'percent' | 'number';

export interface MetricInfo {
  name: string;
  label: string;
  direction: MetricDirection;
  format: MetricFormat;
}

/** The two metrics the charts and summaries single out. */
export const EXACT_MATCH = 'exact_match';
export const CER = 'cer';

/** The known metrics, in the order they are listed everywhere. */
const known = new Map<string, MetricInfo>();
function define(name: string, label: string, direction: MetricDirection, format: MetricFormat): void {
  known.set(name, { name, label, direction, format });
}
define(EXACT_MATCH, 'exact match', 'higher-is-better', 'percent');
define(CER, 'CER', 'lower-is-better', 'number');
define('ned', 'NED', 'lower-is-better', 'number');
define('char_f1', 'character F1', 'higher-is-better', 'percent');
define('exact_match_check_digit', 'exact match with check-digit decoding', 'higher-is-better', 'percent');
define('exact_match_greedy', 'exact match with greedy decoding', 'higher-is-better', 'percent');
define('precision', 'character precision', 'higher-is-better', 'percent');
define('recall', 'character recall', 'higher-is-better', 'percent');
define('check_digit_valid_rate', 'reads with a valid check digit', 'higher-is-better', 'percent');
define('loss', 'loss', 'lower-is-better', 'number');

/** The metrics a run's summary shows (Runs tree tooltip), in order. */
export const HEADLINE_METRICS: readonly string[] = [EXACT_MATCH, CER, 'char_f1'];

/** Listing order: the known metrics as defined above, then the rest by name. */
const ORDER = [...known.keys()];

/** Error rates, distances and losses improve downwards; everything else (accuracies, F1) upwards. */
const LOWER_IS_BETTER = /(^|_)(loss|cer|ned|wer|error)s?$/;
const PERCENT = /(exact_match|_acc|f1|precision|recall|rate)$/;
/** The trainer can prefix a split (`val_exact_match`, `test_cer`); the metric is the same. */
const SPLIT_PREFIX = /^(val|test)_/;

export function metricInfo(name: string): MetricInfo {
  const base = name.replace(SPLIT_PREFIX, '');
  const found = known.get(base);
  const split = base === name ? '' : `${name.slice(0, name.length - base.length - 1)} `;
  if (found) return { ...found, name, label: `${split}${found.label}` };
  return {
    name,
    label: fallbackLabel(name),
    direction: LOWER_IS_BETTER.test(name) ? 'lower-is-better' : 'higher-is-better',
    format: PERCENT.test(name) ? 'percent' : 'number',
  };
}

/** `pos_09_acc` → "position 9 accuracy"; anything else with its underscores as spaces. */
function fallbackLabel(name: string): string {
  const position = /^pos_(\d+)_acc$/.exec(name);
  if (position) return `position ${Number(position[1])} accuracy`;
  return name.replace(/_/g, ' ');
}

export function lowerIsBetter(name: string): boolean {
  return metricInfo(name).direction === 'lower-is-better';
}

/** True when `value` is better than `than` for this metric. */
export function isBetter(name: string, value: number, than: number): boolean {
  return lowerIsBetter(name) ? value < than : value > than;
}

export function formatPercent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** A metric's value as the UI writes it: 42.0% for rates, 0.1234 for error rates and distances. */
export function formatMetric(name: string, value: number): string {
  return metricInfo(name).format === 'percent' ? formatPercent(value) : value.toFixed(4);
}

/** Sort order for metric names: known metrics first (exact match, CER, NED, …), then by name. */
export function compareMetricNames(a: string, b: string): number {
  const rank = (name: string) => ORDER.indexOf(name) >>> 0; // unknown (-1) sorts last
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** The best exact match of a run's metrics, whichever way the trainer named it. */
export function exactMatchOf(metrics: Readonly<Record<string, number>>): number | undefined {
  return metrics[`val_${EXACT_MATCH}`] ?? metrics[EXACT_MATCH];
}
