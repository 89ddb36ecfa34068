// Just enough of pip's version specifiers to answer "can this requirement pick a version below X?".

type Version = number[];

export function parseVersion(text: string): Version | undefined {
  const match = /^\s*v?(\d+(?:\.\d+)*)/.exec(text);
  return match ? match[1]!.split('.').map(Number) : undefined;
}

export function compareVersions(a: Version, b: Version): number {
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

export interface SpecifierVerdict {
  /** Every version the specifier allows is below the minimum: it cannot work. */
  onlyTooOld: boolean;
  /** Some version the specifier allows is below the minimum (an unbounded or old lower bound). */
  allowsTooOld: boolean;
}

interface Bound {
  version: Version;
  inclusive: boolean;
}

/** The lowest and highest version a specifier allows (undefined: unbounded), and whether any clause was understood. */
function bounds(specifier: string): { lowest?: Bound; highest?: Bound; understood: boolean } {
  let lowest: Bound | undefined;
  let highest: Bound | undefined;
  let understood = false;
  for (const clause of specifier.split(',')) {
    if (clause.trim() === '*') understood = true; // any version
    const match = /^\s*(===|==|~=|>=|<=|>|<|!=)?\s*([^\s,;]+)\s*$/.exec(clause);
    if (!match) continue;
    const operator = match[1] ?? '==';
    const versionText = match[2]!;
    const version = parseVersion(versionText);
    if (!version) continue;
    understood = true;
    if (operator === '==' || operator === '===') {
      if (versionText.includes('*')) {
        lowest = { version, inclusive: true };
        highest = { version: [...version.slice(0, -1), version[version.length - 1]! + 1], inclusive: false };
      } else {
        lowest = { version, inclusive: true };
        highest = { version, inclusive: true };
      }
    } else if (operator === '>=' || operator === '>') lowest = { version, inclusive: operator === '>=' };
    else if (operator === '<=' || operator === '<') highest = { version, inclusive: operator === '<=' };
    else if (operator === '~=') {
      lowest = { version, inclusive: true };
      const prefix = version.slice(0, Math.max(1, version.length - 1));
      highest = { version: [...prefix.slice(0, -1), prefix[prefix.length - 1]! + 1], inclusive: false };
    }
  }
  return { lowest, highest, understood };
}

/**
 * Checks a specifier such as "==4.46.3", ">=4.40,<5" or "~=4.45" against a minimum version.
 * Unparseable clauses are ignored, so an odd specifier never produces a false alarm.
 */
export function checkMinimum(specifier: string, minimum: string): SpecifierVerdict {
  const floor = parseVersion(minimum)!;
  const { lowest, highest } = bounds(specifier);
  const onlyTooOld =
    highest !== undefined &&
    (compareVersions(highest.version, floor) < 0 || (!highest.inclusive && compareVersions(highest.version, floor) <= 0));
  const allowsTooOld = onlyTooOld || lowest === undefined || compareVersions(lowest.version, floor) < 0;
  return { onlyTooOld, allowsTooOld };
}

export interface CeilingVerdict {
  /** Every version the specifier allows is at or above the ceiling: it cannot work. */
  onlyTooNew: boolean;
  /** Some version the specifier allows is at or above the ceiling (no upper bound, or one above it). */
  allowsTooNew: boolean;
}

/**
 * Checks a specifier against the first release that no longer works ("4.48": DeepSeek-OCR's code cannot be imported
 * from it on). "*" allows every release; a specifier with no clause understood ("latest") is never an alarm.
 */
export function checkCeiling(specifier: string, ceiling: string): CeilingVerdict {
  const top = parseVersion(ceiling)!;
  const { lowest, highest, understood } = bounds(specifier);
  if (!understood) return { onlyTooNew: false, allowsTooNew: false };
  // Versions are compared padded with zeros, so "4.48" is 4.48.0: below it means at most 4.47.x.
  const onlyTooNew = lowest !== undefined && compareVersions(lowest.version, top) >= 0;
  const allowsTooNew =
    onlyTooNew ||
    highest === undefined ||
    compareVersions(highest.version, top) > 0 ||
    (highest.inclusive && compareVersions(highest.version, top) === 0);
  return { onlyTooNew, allowsTooNew };
}
