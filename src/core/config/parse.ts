// Parses YAML text into documents with source ranges, turning every parser complaint and every
// resource guard into a Finding. Tags are never resolved: unknown ones stay strings and become info.
import { isCollection, isPair, isScalar, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import { parseSimpleYaml } from './fast-yaml';
import type { Finding } from './finding';
import { MAX_ALIAS_COUNT, MAX_FLOW_DEPTH, MAX_NODE_DEPTH, MAX_TEXT_LENGTH } from './limits';
import { documentLocator, spanTableLocator, type SourceLocator } from './nodes';

export interface ParsedDocument {
  locator: SourceLocator;
  /** The plain data, or undefined when the document could not be converted (syntax error, alias bomb, too deep). */
  data: unknown;
  /** True when the data is trustworthy enough for schema and semantic checks. */
  checkable: boolean;
}

export interface ParseResult {
  documents: ParsedDocument[];
  findings: Finding[];
}

export function parseConfigText(text: string, options: { fastPath?: boolean } = {}): ParseResult {
  const refusal = refuseUnparseable(text);
  if (refusal) return { documents: [], findings: [refusal] };
  // Plain configs take the fast path; anything unusual is read by the full parser below.
  const simple = options.fastPath === false ? undefined : parseSimpleYaml(text);
  if (simple) return { documents: [{ locator: spanTableLocator(simple.spans), data: simple.data, checkable: true }], findings: [] };

  const findings: Finding[] = [];
  const documents: ParsedDocument[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false, merge: true, keepSourceTokens: false })) {
    const before = findings.length;
    for (const error of doc.errors) findings.push(parserFinding(error.code, error.pos, error.message, 'error'));
    for (const warning of doc.warnings) findings.push(parserFinding(warning.code, warning.pos, warning.message, 'warning'));
    const hasErrors = findings.slice(before).some((finding) => finding.severity === 'error');

    const tooDeep = firstNodeBeyondDepth(doc.contents, MAX_NODE_DEPTH);
    if (tooDeep) {
      findings.push({
        span: spanOf(tooDeep),
        severity: 'error',
        code: 'too-deep',
        message: `Nesting deeper than ${MAX_NODE_DEPTH} levels; the document is not checked further.`,
      });
      documents.push({ locator: documentLocator(doc), data: undefined, checkable: false });
      continue;
    }
    findings.push(...duplicateKeys(doc));
    const converted = toData(doc);
    if (!converted.ok) findings.push(converted.finding);
    documents.push({
      locator: documentLocator(doc),
      data: converted.ok ? converted.data : undefined,
      checkable: converted.ok && !hasErrors,
    });
  }
  return { documents, findings };
}

/** Cheap checks that run before the parser sees the text; completion and hover use them too. */
export function refuseUnparseable(text: string): Finding | undefined {
  if (text.length > MAX_TEXT_LENGTH) {
    return {
      span: { start: 0, end: 0 },
      severity: 'error',
      code: 'file-too-large',
      message: `File is ${(text.length / 1024 / 1024).toFixed(1)} MB; configs larger than ${MAX_TEXT_LENGTH / 1024} KB are not checked.`,
    };
  }
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    return {
      span: { start: nul, end: nul + 1 },
      severity: 'error',
      code: 'binary-file',
      message: 'File contains NUL characters: it is binary, not YAML.',
    };
  }
  // `- - - - x` nests one block sequence per marker on a single line: the same stack hazard as `[[[[`.
  const compactSequences = new RegExp(`(?:-[ \\t]+){${MAX_FLOW_DEPTH}}`).exec(text);
  if (compactSequences) {
    return {
      span: { start: compactSequences.index, end: compactSequences.index + 1 },
      severity: 'error',
      code: 'too-deep',
      message: `Sequences nested deeper than ${MAX_FLOW_DEPTH} levels on one line; the file is not checked further.`,
    };
  }
  const deep = flowDepthExceeded(text, MAX_FLOW_DEPTH);
  if (deep !== -1) {
    return {
      span: { start: deep, end: deep + 1 },
      severity: 'error',
      code: 'too-deep',
      message: `Flow collections nested deeper than ${MAX_FLOW_DEPTH} levels; the file is not checked further.`,
    };
  }
  return undefined;
}

/**
 * Offset where `[`/`{` nesting first exceeds the limit, or -1. Quotes and comments are skipped roughly;
 * the limit is far above anything a real config needs, so a rough scan cannot reject a real file.
 */
function flowDepthExceeded(text: string, limit: number): number {
  let depth = 0;
  let quote = '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quote) {
      if (char === quote) quote = '';
      else if (char === '\n' && quote === '#') quote = '';
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === '#' && (index === 0 || /\s/.test(text[index - 1]!))) quote = '#';
    else if (char === '[' || char === '{') {
      depth += 1;
      if (depth > limit) return index;
    } else if ((char === ']' || char === '}') && depth > 0) depth -= 1;
  }
  return -1;
}

function parserFinding(code: string, pos: [number, number], message: string, severity: 'error' | 'warning'): Finding {
  const span = { start: pos[0], end: pos[1] };
  const text = message.split('\n')[0]!.trim();
  if (code === 'TAG_RESOLVE_FAILED') {
    return { span, severity: 'info', code: 'unknown-tag', message: `${text}; the value is read as plain text (tags are never executed).` };
  }
  if (code === 'RESOURCE_EXHAUSTION') {
    return { span, severity: 'error', code: 'too-deep', message: `The document is too deeply nested to parse (${text}).` };
  }
  return { span, severity, code: 'yaml-syntax', message: text };
}

function spanOf(node: { range?: [number, number, number] | null }): { start: number; end: number } {
  const range = node.range;
  return range ? { start: range[0], end: range[1] } : { start: 0, end: 0 };
}

/** Depth-first without recursion, so a hostile document cannot overflow the stack. */
function firstNodeBeyondDepth(root: unknown, limit: number): Node | undefined {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth >= limit) return node;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        stack.push([item.key, depth + 1], [item.value, depth + 1]);
      } else stack.push([item, depth + 1]);
    }
  }
  return undefined;
}

function duplicateKeys(doc: Document.Parsed): Finding[] {
  const findings: Finding[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (key === '<<') continue;
        if (seen.has(key)) {
          findings.push({
            span: spanOf(pair.key),
            severity: 'error',
            code: 'duplicate-key',
            message: `Duplicate key "${key}": only the last value would be used.`,
          });
        }
        seen.add(key);
      }
    },
  });
  return findings;
}

type Conversion = { ok: true; data: unknown } | { ok: false; finding: Finding };

function toData(doc: Document.Parsed): Conversion {
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    const firstAlias = findFirstAlias(doc);
    const reason = error instanceof Error ? error.message : String(error);
    const isAliasBomb = /alias/i.test(reason);
    return {
      ok: false,
      finding: {
        span: firstAlias ? spanOf(firstAlias) : spanOf(doc.contents ?? {}),
        severity: 'error',
        code: isAliasBomb ? 'alias-limit' : 'yaml-syntax',
        message: isAliasBomb
          ? `Aliases expand beyond ${MAX_ALIAS_COUNT} nodes (a "billion laughs" pattern); the document is not checked further.`
          : reason,
      },
    };
  }
}

function findFirstAlias(doc: Document.Parsed): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_, alias) {
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}
