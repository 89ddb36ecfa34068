// Finds the YAML node behind a data path (a JSON pointer from ajv, or a rule's key list) so that every
// problem points at the exact key or value the user wrote.
import { isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import type { Span } from './positions';

export type DataPath = ReadonlyArray<string | number>;

export interface Located {
  /** The key of the last path segment (absent for sequence items and the root). */
  key?: Node;
  /** The value at the path (absent when the key has no value). */
  value?: Node;
}

export function pointerToPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Follows the path as far as the document allows; returns the deepest node reached and how far it got. */
export function locate(doc: Document.Parsed, path: DataPath): { found: Located; depth: number } {
  let current: Located = { value: (doc.contents ?? undefined) as Node | undefined };
  for (let index = 0; index < path.length; index++) {
    const next = childOf(current.value, path[index]!);
    if (!next) return { found: current, depth: index };
    current = next;
  }
  return { found: current, depth: path.length };
}

function childOf(node: Node | undefined, segment: string | number): Located | undefined {
  if (isMap(node)) {
    const pair = node.items.find(
      (item): item is Pair<Node, Node> => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
    );
    return pair ? { key: pair.key ?? undefined, value: pair.value ?? undefined } : undefined;
  }
  if (isSeq(node)) {
    const index = typeof segment === 'number' ? segment : Number(segment);
    const item = Number.isInteger(index) ? node.items[index] : undefined;
    return item ? { value: item as Node } : undefined;
  }
  return undefined;
}

export function nodeSpan(node: Node | undefined): Span | undefined {
  const range = node?.range;
  return range ? { start: range[0], end: range[1] } : undefined;
}

/** The span a problem about `path` should underline: the value (or the key when asked, or when there is no value). */
export function spanForPath(doc: Document.Parsed, path: DataPath, prefer: 'key' | 'value'): Span {
  const { found } = locate(doc, path);
  const preferred = prefer === 'key' ? (found.key ?? found.value) : (found.value ?? found.key);
  return nodeSpan(preferred) ?? nodeSpan(found.key) ?? documentStart(doc);
}

export function documentStart(doc: Document.Parsed): Span {
  const range = doc.contents?.range ?? doc.range;
  return { start: range[0], end: range[0] };
}

/** Answers "where in the text is this path?" for findings, whichever parser read the document. */
export interface SourceLocator {
  span(path: DataPath, prefer: 'key' | 'value'): Span;
}

export function documentLocator(doc: Document.Parsed): SourceLocator {
  return { span: (path, prefer) => spanForPath(doc, path, prefer) };
}

/** The same answers from the spans the fast parser recorded: the deepest recorded prefix of the path wins. */
export function spanTableLocator(spans: ReadonlyMap<string, { key?: Span; value?: Span }>): SourceLocator {
  return {
    span(path, prefer) {
      for (let length = path.length; length >= 0; length--) {
        const entry = spans.get(toPointer(path.slice(0, length)));
        if (!entry) continue;
        const preferred = prefer === 'key' ? (entry.key ?? entry.value) : (entry.value ?? entry.key);
        if (preferred) return preferred;
      }
      return { start: 0, end: 0 };
    },
  };
}

export function toPointer(path: DataPath): string {
  let out = '';
  for (const segment of path) out += `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  return out;
}
