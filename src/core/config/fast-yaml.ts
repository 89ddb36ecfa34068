// A fast path for the YAML that configs are made of: one document of block mappings and sequences with
// single-line plain or quoted scalars and comments. It yields the same data and the same source spans as
// the `yaml` package (a differential test holds it to that) in a fraction of the time, and gives up —
// returning undefined — at anything else (flow collections, anchors, tags, block scalars, multi-line
// scalars, duplicate keys, odd indentation, errors), so the `yaml` package answers those files.
import { toPointer } from './nodes';
import type { Span } from './positions';

export interface FastDocument {
  data: unknown;
  /** JSON pointer → key and value spans, as `yaml` node ranges [start, valueEnd]. */
  spans: Map<string, { key?: Span; value?: Span }>;
}

/** Thrown internally to abandon the fast path; never escapes this module. */
class NotSimple extends Error {}

const MAX_DEPTH = 64;

interface Line {
  /** Offset of the first character of the line. */
  start: number;
  /** Offset just past the line's content (before `\r\n` or `\n`). */
  end: number;
  /** Offset just past the line break (or the end of the text). */
  next: number;
  indent: number;
  /** Blank or comment-only lines carry no content. */
  content: boolean;
  blank: boolean;
}

export function parseSimpleYaml(text: string): FastDocument | undefined {
  // A BOM, or a carriage return that ends no line (yaml reads those as content), is left to `yaml`.
  if (text.charCodeAt(0) === 0xfeff || /\r(?!\n)/.test(text)) return undefined;
  try {
    return new FastParser(text).parse();
  } catch {
    // NotSimple, or anything unforeseen: either way the full parser answers, so nothing here can crash validation.
    return undefined;
  }
}

class FastParser {
  private readonly lines: Line[] = [];
  private index = 0;
  /**
   * Where the last finished value ends, as `yaml` counts it: after the line break of a scalar (its comment
   * included), at the value's own position for an empty value without a comment. A collection ends where
   * its last value ends, so blank lines and comments after it are not part of it.
   */
  private lastEnd = 0;
  private readonly spans = new Map<string, { key?: Span; value?: Span }>();

  constructor(private readonly text: string) {
    for (let start = 0; start < text.length;) {
      const newline = text.indexOf('\n', start);
      const next = newline === -1 ? text.length : newline + 1;
      let end = newline === -1 ? text.length : newline;
      if (text.charCodeAt(end - 1) === 13) end -= 1;
      let cursor = start;
      while (cursor < end && text.charCodeAt(cursor) === 32) cursor++;
      const first = text[cursor];
      if (first === '\t') throw new NotSimple();
      const content = cursor < end && first !== '#';
      if (content && cursor === start && (first === '%' || text.startsWith('---', start) || text.startsWith('...', start)))
        throw new NotSimple();
      this.lines.push({ start, end, next, indent: cursor - start, content, blank: cursor >= end });
      start = next;
    }
    this.declineDeepComments();
  }

  /**
   * `yaml` counts a comment line indented deeper than the entry before it as part of that entry's node,
   * which moves where collections end. Such comments are rare in configs; leave those files to `yaml`.
   */
  private declineDeepComments(): void {
    let previous: Line | undefined;
    for (let index = 0; index < this.lines.length; index++) {
      const line = this.lines[index]!;
      if (line.content) {
        previous = line;
        continue;
      }
      if (line.blank || !previous || line.indent <= previous.indent) continue;
      const next = this.lines.slice(index + 1).find((candidate) => candidate.content);
      const opensBlock = /:[ \t]*(#.*)?$/.test(this.text.slice(previous.start, previous.end));
      if (opensBlock && next && next.indent > previous.indent && line.indent <= next.indent) continue;
      throw new NotSimple();
    }
  }

  parse(): FastDocument {
    this.skipEmpty();
    const first = this.lines[this.index];
    if (!first) throw new NotSimple(); // empty or comments only: let `yaml` decide what that is
    const data = this.block(first.indent, first.start + first.indent, [], 0);
    this.skipEmpty();
    if (this.index < this.lines.length) throw new NotSimple(); // content left over: a dedent below the root
    return { data, spans: this.spans };
  }

  /** True when a blank line comes after `line` before the next content line. */
  private blankFollows(line: Line): boolean {
    for (let index = this.lines.indexOf(line) + 1; index < this.lines.length && !this.lines[index]!.content; index++) {
      if (this.lines[index]!.blank) return true;
    }
    return false;
  }

  private skipEmpty(): void {
    while (this.index < this.lines.length && !this.lines[this.index]!.content) this.index++;
  }

  private record(path: ReadonlyArray<string | number>, part: 'key' | 'value', span: Span): void {
    const key = toPointer(path);
    const entry = this.spans.get(key);
    if (entry) entry[part] = span;
    else this.spans.set(key, { [part]: span });
  }

  /** A block collection whose first entry starts at `at` (a column `indent` of the current line). */
  private block(indent: number, at: number, path: Array<string | number>, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new NotSimple();
    return this.isSequenceItem(at) ? this.sequence(indent, at, path, depth) : this.mapping(indent, at, path, depth);
  }

  private isSequenceItem(at: number): boolean {
    if (this.text[at] !== '-') return false;
    const after = this.text.charCodeAt(at + 1);
    return after === 32 || at + 1 >= this.lines[this.index]!.end;
  }

  private mapping(indent: number, at: number, path: Array<string | number>, depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const start = at;
    let position = at;
    for (;;) {
      const line = this.lines[this.index]!;
      const key = this.key(position, line);
      if (Object.prototype.hasOwnProperty.call(result, key.value) || key.value === '<<' || key.value === '__proto__') throw new NotSimple();
      const childPath = [...path, key.value];
      this.record(childPath, 'key', { start: position, end: key.end });
      let valueStart = key.colon + 1;
      while (valueStart < line.end && isBlank(this.text.charCodeAt(valueStart))) valueStart++;
      if (valueStart < line.end && this.text[valueStart] !== '#') {
        const scalar = this.scalar(valueStart, line);
        result[key.value] = scalar.value;
        this.record(childPath, 'value', { start: valueStart, end: scalar.end });
        this.index++;
        this.lastEnd = line.next;
        this.skipEmpty();
        const next = this.lines[this.index];
        if (next && next.indent > indent) throw new NotSimple(); // a continued plain scalar, or an error
      } else {
        const hasComment = valueStart < line.end;
        this.index++;
        this.skipEmpty();
        const next = this.lines[this.index];
        const nestedAt = next ? next.start + next.indent : -1;
        if (next && (next.indent > indent || (next.indent === indent && this.isSequenceItem(nestedAt)))) {
          result[key.value] = this.block(next.indent, nestedAt, childPath, depth + 1);
          this.record(childPath, 'value', { start: nestedAt, end: this.lastEnd });
        } else {
          // After `key: # comment`, `yaml` stretches the empty value over following blank lines: leave that to it.
          if (hasComment && this.blankFollows(line)) throw new NotSimple();
          result[key.value] = null;
          this.record(childPath, 'value', { start: valueStart, end: valueStart });
          this.lastEnd = hasComment ? line.next : valueStart;
        }
        this.skipEmpty();
      }
      const following = this.lines[this.index];
      if (!following || following.indent < indent) break;
      if (following.indent > indent) throw new NotSimple();
      position = following.start + following.indent;
      if (this.isSequenceItem(position)) throw new NotSimple(); // a sequence where a key belongs
    }
    this.record(path, 'value', { start, end: this.lastEnd });
    return result;
  }

  private sequence(indent: number, at: number, path: Array<string | number>, depth: number): unknown[] {
    const result: unknown[] = [];
    const start = at;
    let position = at;
    for (;;) {
      const line = this.lines[this.index]!;
      const itemPath = [...path, result.length];
      let itemStart = position + 1;
      while (itemStart < line.end && isBlank(this.text.charCodeAt(itemStart))) itemStart++;
      if (itemStart >= line.end || this.text[itemStart] === '#') {
        throw new NotSimple(); // "-" alone on its line: rare in configs, left to `yaml`
      } else if (this.isSequenceItem(itemStart)) {
        throw new NotSimple(); // "- - x": compact nested sequences
      } else if (this.startsMappingEntry(itemStart, line)) {
        const column = itemStart - line.start;
        result.push(this.mapping(column, itemStart, itemPath, depth + 1));
      } else {
        const scalar = this.scalar(itemStart, line);
        result.push(scalar.value);
        this.record(itemPath, 'value', { start: itemStart, end: scalar.end });
        this.index++;
        this.lastEnd = line.next;
        this.skipEmpty();
        const next = this.lines[this.index];
        if (next && next.indent > indent) throw new NotSimple();
      }
      this.skipEmpty();
      const following = this.lines[this.index];
      if (!following || following.indent < indent) break;
      position = following.start + following.indent;
      if (following.indent > indent || !this.isSequenceItem(position)) {
        // A key at the sequence's own indent ends a sequence that sat at its parent key's indent.
        if (following.indent === indent && !this.isSequenceItem(position)) break;
        throw new NotSimple();
      }
    }
    this.record(path, 'value', { start, end: this.lastEnd });
    return result;
  }

  /** True when the text at `at` reads `key:` followed by a space or the end of the line. */
  private startsMappingEntry(at: number, line: Line): boolean {
    const char = this.text[at];
    if (char === '"' || char === "'") {
      const close = this.quotedEnd(at, line);
      return this.text[close] === ':' && (close + 1 >= line.end || this.text.charCodeAt(close + 1) === 32);
    }
    for (let cursor = at; cursor < line.end; cursor++) {
      const code = this.text.charCodeAt(cursor);
      if (code === 35 /* # */ && this.text.charCodeAt(cursor - 1) === 32) return false;
      if (code === 58 /* : */ && (cursor + 1 >= line.end || this.text.charCodeAt(cursor + 1) === 32)) return true;
    }
    return false;
  }

  private key(at: number, line: Line): { value: string; end: number; colon: number } {
    const char = this.text[at];
    if (char === '"' || char === "'") {
      const close = this.quotedEnd(at, line);
      if (this.text[close] !== ':') throw new NotSimple();
      const value = this.quotedValue(at, close);
      return { value, end: close, colon: close };
    }
    if (isIndicator(char!)) throw new NotSimple();
    for (let cursor = at; cursor < line.end; cursor++) {
      const code = this.text.charCodeAt(cursor);
      if (code === 58 && (cursor + 1 >= line.end || this.text.charCodeAt(cursor + 1) === 32)) {
        let keyEnd = cursor;
        while (keyEnd > at && this.text.charCodeAt(keyEnd - 1) === 32) keyEnd--;
        const raw = this.text.slice(at, keyEnd);
        // Keys that `yaml` would read as numbers, booleans or null become different JS keys: not our business.
        if (raw.length === 0 || !/^[A-Za-z_][A-Za-z0-9_.\-/]*$/.test(raw) || resolvePlain(raw) !== raw) throw new NotSimple();
        return { value: raw, end: keyEnd, colon: cursor };
      }
      if (code === 35 && this.text.charCodeAt(cursor - 1) === 32) break;
    }
    throw new NotSimple(); // no `key:` on this line (a plain multi-line scalar, or an error)
  }

  private scalar(at: number, line: Line): { value: unknown; end: number } {
    const char = this.text[at]!;
    if (char === '"' || char === "'") {
      const close = this.quotedEnd(at, line);
      const value = this.quotedValue(at, close);
      let rest = close;
      while (rest < line.end && isBlank(this.text.charCodeAt(rest))) rest++;
      if (rest < line.end && !(this.text[rest] === '#' && rest > close)) throw new NotSimple();
      return { value, end: close };
    }
    if (
      isIndicator(char) ||
      (char === '-' && this.text.charCodeAt(at + 1) === 32) ||
      ((char === '?' || char === ':') && (at + 1 >= line.end || this.text.charCodeAt(at + 1) === 32))
    ) {
      throw new NotSimple();
    }
    let end = line.end;
    for (let cursor = at + 1; cursor < line.end; cursor++) {
      const code = this.text.charCodeAt(cursor);
      if (code === 35 && (this.text.charCodeAt(cursor - 1) === 32 || this.text.charCodeAt(cursor - 1) === 9)) {
        end = cursor;
        break;
      }
      if (code === 58 && (cursor + 1 >= line.end || this.text.charCodeAt(cursor + 1) === 32 || this.text.charCodeAt(cursor + 1) === 9))
        throw new NotSimple();
    }
    while (end > at && (this.text.charCodeAt(end - 1) === 32 || this.text.charCodeAt(end - 1) === 9)) end--;
    return { value: resolvePlain(this.text.slice(at, end)), end };
  }

  /** Offset just past the closing quote on the same line. */
  private quotedEnd(at: number, line: Line): number {
    const quote = this.text[at];
    for (let cursor = at + 1; cursor < line.end; cursor++) {
      const char = this.text[cursor];
      if (quote === '"' && char === '\\') {
        cursor++;
        continue;
      }
      if (char === quote) {
        if (quote === "'" && this.text[cursor + 1] === "'") {
          cursor++;
          continue;
        }
        return cursor + 1;
      }
    }
    throw new NotSimple(); // the string goes on over the next line
  }

  private quotedValue(at: number, close: number): string {
    const inner = this.text.slice(at + 1, close - 1);
    if (this.text[at] === "'") return inner.replace(/''/g, "'");
    if (!inner.includes('\\')) return inner;
    // JSON's escapes are a subset of YAML's; anything else (\x, \0, \e, \N …) goes to `yaml`.
    if (/\\(?!["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(inner) || hasControlCharacter(inner)) throw new NotSimple();
    return JSON.parse(`"${inner}"`) as string;
  }
}

/** YAML's separation white space inside a line: space and tab. */
function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

/** Characters that cannot start a plain scalar (or start something this fast path leaves to `yaml`). */
function isIndicator(char: string): boolean {
  return '[]{}#&*!|>%@`,'.includes(char) || char === '"' || char === "'";
}

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const TRUE = /^(?:[Tt]rue|TRUE)$/;
const FALSE = /^(?:[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCTAL = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const EXPONENT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const INFINITY = /^[-+]?\.(?:inf|Inf|INF)$/;
const NAN = /^\.(?:nan|NaN|NAN)$/;

/** The YAML 1.2 core schema, as the `yaml` package resolves plain scalars. */
function resolvePlain(raw: string): unknown {
  if (NULL.test(raw)) return null;
  if (TRUE.test(raw)) return true;
  if (FALSE.test(raw)) return false;
  const first = raw.charCodeAt(0);
  // Everything below starts with a digit, a sign or a dot; words skip the regexes.
  if (!((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46)) return raw;
  if (INT.test(raw)) return parseInt(raw, 10);
  if (OCTAL.test(raw)) return parseInt(raw.slice(2), 8);
  if (HEX.test(raw)) return parseInt(raw.slice(2), 16);
  if (FLOAT.test(raw) || EXPONENT.test(raw)) return Number(raw);
  if (INFINITY.test(raw)) return raw.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (NAN.test(raw)) return Number.NaN;
  return raw;
}

/** A raw control character (U+0000–U+001F) inside a quoted scalar: JSON.parse would refuse it. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) if (text.charCodeAt(index) < 0x20) return true;
  return false;
}
