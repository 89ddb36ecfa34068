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

/**
 * Checks a specifier such as "==4.46.3", ">=4.40,<5" or "~=4.45" against a minimum version.
 * Unparseable clauses are ignored, so an odd specifier never produces a false alarm.
 */
export function checkMinimum(specifier: string, minimum: string): SpecifierVerdict {
  const floor = parseVersion(minimum)!;
  let lowest: { version: Version; inclusive: boolean } | undefined;
  let highest: { version: Version; inclusive: boolean } | undefined;
  for (const clause of specifier.split(',')) {
    const match = /^\s*(===|==|~=|>=|<=|>|<|!=)?\s*([^\s,;]+)\s*$/.exec(clause);
    if (!match) continue;
    const operator = match[1] ?? '==';
    const versionText = match[2]!;
    const version = parseVersion(versionText);
    if (!version) continue;
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
  const onlyTooOld =
    highest !== undefined &&
    (compareVersions(highest.version, floor) < 0 || (!highest.inclusive && compareVersions(highest.version, floor) <= 0));
  const allowsTooOld = onlyTooOld || lowest === undefined || compareVersions(lowest.version, floor) < 0;
  return { onlyTooOld, allowsTooOld };
}
