// Completion and hover for config files, from the same schemas the validator uses. The cursor's place in
// the YAML is read from indentation (so half-typed lines still complete) and, for hover, from the parse tree.
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { kindFromModeline, type ConfigKind, type KindOptions } from './kinds';
import { locate, type DataPath } from './nodes';
import { refuseUnparseable } from './parse';
import { allowedValuesAt, describeAt, knownKeysAt, type JsonSchema } from './schemas';
import { detectKind } from './validate';

export interface AssistOptions extends KindOptions {
  file: string;
}

export interface CompletionItem {
  label: string;
  kind: 'key' | 'value';
  insertText: string;
  detail?: string;
  documentation?: string;
  /** Offsets of the text the item replaces (the word typed so far). */
  replaceStart: number;
  replaceEnd: number;
}

export interface HoverResult {
  markdown: string;
  start: number;
  end: number;
}

interface LineShape {
  /** Column of the first character after any `- ` sequence markers. */
  contentColumn: number;
  /** Column of the innermost `- ` marker, when the line starts a sequence item. */
  dashColumn?: number;
  key?: string;
  /** Text after `key:` (empty for a parent key). */
  rest: string;
  content: string;
}

function shapeOf(rawLine: string): LineShape | undefined {
  // `.` stops at "\r": CRLF files must lose it before the line is read.
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  const match = /^(\s*)((?:-\s+)*)(.*)$/.exec(line);
  if (!match) return undefined;
  const content = match[3]!;
  if (!content.trim() && !match[2]) return undefined;
  if (content.trimStart().startsWith('#') || /^(---|\.\.\.)(\s|$)/.test(content)) return undefined;
  const contentColumn = match[1]!.length + match[2]!.length;
  const dashes = match[2]!;
  const dashColumn = dashes ? match[1]!.length + dashes.lastIndexOf('-') : undefined;
  const keyMatch = /^(["']?)([^"'#:\s][^"'#:]*?)\1\s*:(?:\s+(.*)|$)/.exec(content);
  return keyMatch
    ? { contentColumn, dashColumn, key: keyMatch[2]!, rest: (keyMatch[3] ?? '').replace(/\s+#.*$/, ''), content }
    : { contentColumn, dashColumn, rest: '', content };
}

/** The mapping path that contains a line whose keys start at `column`, read upwards through parent keys. */
function parentPath(lines: string[], lineIndex: number, column: number, startsItem: boolean): DataPath {
  const path: Array<string | number> = [];
  let indent = column;
  let pendingItem = startsItem;
  for (let index = lineIndex - 1; index >= 0; index--) {
    const shape = shapeOf(lines[index]!);
    if (!shape) continue;
    if (shape.contentColumn === indent && shape.dashColumn !== undefined && !pendingItem) {
      // A sibling key that opens the sequence item our mapping belongs to.
      indent = shape.dashColumn;
      pendingItem = true;
      continue;
    }
    if (shape.contentColumn >= indent) continue; // a sibling or something deeper
    if (!shape.key || shape.rest.trim() !== '') break;
    if (pendingItem) path.unshift(0);
    path.unshift(shape.key);
    pendingItem = shape.dashColumn !== undefined;
    indent = shape.dashColumn ?? shape.contentColumn;
    if (indent === 0 && !pendingItem) break;
  }
  return path;
}

function kindFor(text: string, options: AssistOptions): ConfigKind | undefined {
  if (refuseUnparseable(text)) return undefined;
  return kindFromModeline(text)?.kind ?? detectKind(text, options.file, options);
}

export function completionsAt(text: string, offset: number, options: AssistOptions): CompletionItem[] {
  const kind = kindFor(text, options);
  if (!kind) return [];
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const lines = text.slice(0, lineStart).split('\n');
  const lineIndex = lines.length - 1;
  lines[lineIndex] = before;
  const shape = shapeOf(before) ?? { contentColumn: before.length, rest: '', content: '' };

  if (shape.key !== undefined && /:\s/.test(shape.content)) {
    const typed = /["']?([^"'\s]*)$/.exec(shape.rest)![1]!;
    const path = [...parentPath(lines, lineIndex, shape.contentColumn, shape.dashColumn !== undefined), shape.key];
    return valueItems(kind, path, typed, offset);
  }
  if (/^[\w.-]*$/.test(shape.content)) {
    const path = parentPath(lines, lineIndex, shape.contentColumn, shape.dashColumn !== undefined);
    const present = existingKeys(text, path);
    return keyItems(kind, path, present, shape.content, offset);
  }
  return [];
}

function valueItems(kind: ConfigKind, path: DataPath, typed: string, offset: number): CompletionItem[] {
  const description = describeAt(kind, path);
  return allowedValuesAt(kind, path)
    .filter((value) => value !== null)
    .map((value) => {
      const label = String(value);
      return {
        label,
        kind: 'value' as const,
        insertText: label,
        detail: description?.default === value ? 'default' : undefined,
        documentation: description?.description,
        replaceStart: offset - typed.length,
        replaceEnd: offset,
      };
    });
}

function keyItems(kind: ConfigKind, path: DataPath, present: Set<string>, typed: string, offset: number): CompletionItem[] {
  return knownKeysAt(kind, path)
    .filter((key) => !present.has(key))
    .map((key) => {
      const schema = describeAt(kind, [...path, key]);
      return {
        label: key,
        kind: 'key' as const,
        insertText: `${key}: `,
        detail: typeSummary(schema),
        documentation: schema?.description,
        replaceStart: offset - typed.length,
        replaceEnd: offset,
      };
    });
}

/** Keys already written in the mapping at `path` (so completion does not offer duplicates). */
function existingKeys(text: string, path: DataPath): Set<string> {
  const keys = new Set<string>();
  try {
    const doc = parseDocument(text, { prettyErrors: false });
    const { found, depth } = locate(doc, path);
    if (depth === path.length && isMap(found.value)) {
      for (const pair of found.value.items) if (isScalar(pair.key)) keys.add(String(pair.key.value));
    }
  } catch {
    // A half-typed document may not parse; offering every key is the right fallback.
  }
  return keys;
}

function typeSummary(schema: JsonSchema | undefined): string | undefined {
  if (!schema) return undefined;
  if (schema.enum) return schema.enum.map((value) => String(value)).join(' | ');
  return Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
}

export function hoverAt(text: string, offset: number, options: AssistOptions): HoverResult | undefined {
  const kind = kindFor(text, options);
  if (!kind) return undefined;
  const target = pathAtOffset(text, offset);
  if (!target || target.path.length === 0) return undefined;
  const schema = describeAt(kind, target.path);
  if (!schema?.description) return undefined;
  return { markdown: hoverMarkdown(target.path, schema), start: target.start, end: target.end };
}

function hoverMarkdown(path: DataPath, schema: JsonSchema): string {
  const name = String([...path].reverse().find((segment) => typeof segment === 'string') ?? '');
  const parts = [`**${name}**${schema.type ? ` · ${typeSummary({ type: schema.type })}` : ''}`, schema.description!];
  if (schema.enum) parts.push(`Allowed: ${schema.enum.map((value) => `\`${String(value)}\``).join(', ')}`);
  if (schema.default !== undefined) parts.push(`Default: \`${JSON.stringify(schema.default)}\``);
  if (schema.minimum !== undefined || schema.maximum !== undefined) {
    parts.push(`Range: ${schema.minimum ?? '−∞'} … ${schema.maximum ?? '∞'}`);
  }
  if (schema.examples?.length) {
    const example = schema.examples[0];
    const text = typeof example === 'string' ? example : JSON.stringify(example);
    parts.push(`Example: \`${text.replace(/\n/g, '\\n')}\``);
  }
  return parts.join('\n\n');
}

/** The data path of the key or scalar under the cursor, walking the parse tree without recursion. */
function pathAtOffset(text: string, offset: number): { path: DataPath; start: number; end: number } | undefined {
  if (refuseUnparseable(text)) return undefined;
  const doc = parseDocument(text, { prettyErrors: false });
  const path: Array<string | number> = [];
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 64; depth++) {
    const contains = (candidate: unknown): candidate is Node => {
      const range = (candidate as Node | null)?.range;
      return Boolean(range && range[0] <= offset && offset <= range[1]);
    };
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && (contains(item.key) || contains(item.value)));
      if (!pair || !isScalar(pair.key)) return undefined;
      path.push(String(pair.key.value));
      if (contains(pair.key)) return { path, start: pair.key.range![0], end: pair.key.range![1] };
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => contains(item));
      if (index === -1) return undefined;
      path.push(index);
      node = node.items[index];
    } else if (isScalar(node) && node.range) {
      return { path, start: node.range[0], end: node.range[1] };
    } else return undefined;
  }
  return undefined;
}
