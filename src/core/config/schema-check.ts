// Turns ajv's errors into findings at the exact key or value, with "did you mean" for enum values and
// unknown keys. Errors inside anyOf/oneOf branches are folded into one finding per value.
import type { ErrorObject } from 'ajv';
import type { Finding } from './finding';
import type { ConfigKind } from './kinds';
import { pointerToPath, type DataPath, type SourceLocator } from './nodes';
import { knownKeysAt, schemaErrors, type JsonSchema } from './schemas';
import { nearest } from './suggest';

export function checkAgainstSchema(kind: ConfigKind, doc: SourceLocator, data: unknown): Finding[] {
  const errors = schemaErrors(kind, data);
  if (errors.length === 0) return [];
  const findings: Finding[] = [];
  const handledCombinators = new Set<string>();
  for (const error of errors) {
    // Each branch of an anyOf/oneOf complains on its own; the combinator's error speaks for all of them.
    if (/\/(anyOf|oneOf)\/\d+\//.test(error.schemaPath)) continue;
    if (isCombinator(error)) {
      if (handledCombinators.has(error.instancePath)) continue;
      handledCombinators.add(error.instancePath);
      findings.push(combinatorFinding(doc, error, errors));
      continue;
    }
    const finding = errorFinding(kind, doc, error);
    if (finding) findings.push(finding);
  }
  return findings;
}

function isCombinator(error: ErrorObject): boolean {
  return error.keyword === 'anyOf' || error.keyword === 'oneOf';
}

function errorFinding(kind: ConfigKind, doc: SourceLocator, error: ErrorObject): Finding | undefined {
  const path = pointerToPath(error.instancePath);
  const name = displayPath(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const keyPath = [...path, key];
      const suggestion = nearest(key, knownKeysAt(kind, path));
      const where = path.length ? ` in ${name}` : '';
      return {
        span: doc.span(keyPath, 'key'),
        severity: 'warning',
        code: 'unknown-key',
        message: suggestion ? `Unknown key "${key}"${where}; did you mean "${suggestion}"?` : `Unknown key "${key}"${where}.`,
        fix: suggestion ? { title: `Rename to "${suggestion}"`, replacement: suggestion } : undefined,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]) ?? [];
      const value = error.data;
      const suggestion =
        typeof value === 'string'
          ? nearest(
              value,
              allowed.filter((item): item is string => typeof item === 'string'),
            )
          : undefined;
      const alternatives = allowed.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(', ');
      return {
        span: doc.span(path, 'value'),
        severity: 'error',
        code: 'invalid-enum',
        message:
          `${JSON.stringify(value)} is not a valid ${name}${suggestion ? `; did you mean "${suggestion}"?` : '.'} ` +
          `Allowed: ${alternatives}.`,
        fix: suggestion ? { title: `Change to "${suggestion}"`, replacement: suggestion } : undefined,
      };
    }
    case 'type':
      return {
        span: doc.span(path, 'value'),
        severity: 'error',
        code: 'wrong-type',
        message: `${name} must be ${typeText(params.type)}, not ${describeValue(error.data)}.`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        span: doc.span(path, 'value'),
        severity: 'error',
        code: 'out-of-range',
        message: `${name} must be ${params.comparison} ${params.limit} (is ${String(error.data)}).`,
      };
    case 'required': {
      const missing = String(params.missingProperty);
      return {
        span: doc.span(path, 'key'),
        severity: 'error',
        code: 'missing-key',
        message: path.length ? `${name} needs the key "${missing}".` : `Missing required key "${missing}".`,
      };
    }
    case 'minLength':
      return { span: doc.span(path, 'value'), severity: 'error', code: 'invalid-value', message: `${name} must not be empty.` };
    case 'pattern':
      return {
        span: doc.span(path, 'value'),
        severity: 'error',
        code: 'invalid-value',
        message: `${name} ${JSON.stringify(error.data)} does not have the expected form (${String(params.pattern)}).`,
      };
    default:
      return {
        span: doc.span(path, 'value'),
        severity: 'error',
        code: 'invalid-value',
        message: `${name} ${error.message ?? 'is invalid'}.`,
      };
  }
}

/** One finding for a value no branch accepts; a near miss of a branch's enum ("aut" for auto) gets its fix. */
function combinatorFinding(doc: SourceLocator, error: ErrorObject, all: ErrorObject[]): Finding {
  const path = pointerToPath(error.instancePath);
  const schema = error.parentSchema as JsonSchema | undefined;
  const branches = [...(schema?.anyOf ?? []), ...(schema?.oneOf ?? [])];
  const forms = branches.map((branch) => branchText(branch)).filter((text) => text.length > 0);
  const allowed = all
    .filter((other) => other.keyword === 'enum' && other.instancePath === error.instancePath)
    .flatMap((other) => (other.params as { allowedValues?: unknown[] }).allowedValues ?? [])
    .filter((value): value is string => typeof value === 'string');
  const suggestion = typeof error.data === 'string' ? nearest(error.data, allowed) : undefined;
  const finding: Finding = {
    span: doc.span(path, 'value'),
    severity: 'error',
    code: suggestion ? 'invalid-enum' : typeof error.data === 'string' ? 'invalid-value' : 'wrong-type',
    message:
      `${displayPath(path)} must be ${forms.length ? forms.join(' or ') : 'valid'}, ` +
      `not ${describeValue(error.data)}${suggestion ? `; did you mean "${suggestion}"?` : '.'}`,
  };
  if (suggestion) finding.fix = { title: `Change to "${suggestion}"`, replacement: suggestion };
  return finding;
}

function branchText(branch: JsonSchema): string {
  if (branch.enum) return branch.enum.map((value) => JSON.stringify(value)).join(' or ');
  if (branch.$ref) return '';
  const type = typeText(branch.type);
  if (branch.minimum !== undefined) return `${type} ≥ ${branch.minimum}`;
  if (branch.type === 'array' && branch.items && !Array.isArray(branch.items)) return `a list of ${typeText(branch.items.type, true)}`;
  return type;
}

const ARTICLE_TYPES: Record<string, [string, string]> = {
  string: ['a string', 'strings'],
  number: ['a number', 'numbers'],
  integer: ['an integer', 'integers'],
  boolean: ['true or false', 'booleans'],
  object: ['a mapping (key: value)', 'mappings'],
  array: ['a list', 'lists'],
  null: ['null', 'nulls'],
};

function typeText(type: unknown, plural = false): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((name) => ARTICLE_TYPES[String(name)]?.[plural ? 1 : 0] ?? String(name)).join(' or ');
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' && !Number.isFinite(value)) return `the out-of-range number ${String(value)}`;
  if (typeof value === 'number' && !Number.isInteger(value)) return `the number ${value}`;
  return `${typeof value} ${String(value)}`;
}

export function displayPath(path: DataPath): string {
  if (path.length === 0) return 'the document';
  return path
    .map((segment, index) =>
      typeof segment === 'number' || /^\d+$/.test(String(segment)) ? `[${segment}]` : `${index ? '.' : ''}${segment}`,
    )
    .join('');
}
