// Quick fixes as plain text edits. Each fix replaces exactly the key or scalar the problem points at, so
// comments, blank lines and the rest of the formatting stay as the user wrote them; the quote style
// of the replaced scalar is kept.
import { TextPositions } from './positions';
import type { Problem } from './problem';

export interface TextEdit {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
  isPreferred: boolean;
}

export function quickFixes(text: string, problem: Problem): QuickFix[] {
  if (!problem.fix) return [];
  const positions = new TextPositions(text);
  const start = positions.offsetOf(problem.line, problem.column);
  const end = positions.offsetOf(problem.endLine, problem.endColumn);
  const original = text.slice(start, end);
  const newText = formatLike(original, problem.fix.replacement);
  if (newText === original) return [];
  const edit: TextEdit = { line: problem.line, column: problem.column, endLine: problem.endLine, endColumn: problem.endColumn, newText };
  return [{ title: problem.fix.title, edits: [edit], isPreferred: true }];
}

/** Applies edits (1-based ranges into `text`) from last to first, so earlier offsets stay valid. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const positions = new TextPositions(text);
  const spans = edits
    .map((edit) => ({
      start: positions.offsetOf(edit.line, edit.column),
      end: positions.offsetOf(edit.endLine, edit.endColumn),
      newText: edit.newText,
    }))
    .sort((a, b) => b.start - a.start);
  let result = text;
  for (const span of spans) result = result.slice(0, span.start) + span.newText + result.slice(span.end);
  return result;
}

/** Writes `value` with the quoting of `original`; plain only where YAML would read it back as the same string. */
function formatLike(original: string, value: string | number): string {
  if (typeof value === 'number') return String(value);
  const trimmed = original.trim();
  if (trimmed.startsWith('"')) return JSON.stringify(value);
  if (trimmed.startsWith("'")) return `'${value.replace(/'/g, "''")}'`;
  return isSafePlain(value) ? value : JSON.stringify(value);
}

function isSafePlain(value: string): boolean {
  if (!/^[A-Za-z0-9_./-][A-Za-z0-9_ ./-]*$/.test(value) || value.endsWith(' ')) return false;
  // Words YAML would read as something other than a string.
  return !/^(true|false|yes|no|on|off|null|~|[-+]?[0-9.]+(e[-+]?[0-9]+)?)$/i.test(value);
}
