// The three JSON Schemas (draft-07, shared with Red Hat's YAML extension through `yamlValidation`),
// compiled once with ajv, and a walker that finds the sub-schema for a data path (hover, completion).
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import modelProfileSchema from '../../../schemas/model-profile.schema.json';
import trainerConfigSchema from '../../../schemas/trainer-config.schema.json';
import trainingConfigSchema from '../../../schemas/training-config.schema.json';
import type { ConfigKind } from './kinds';
import type { DataPath } from './nodes';

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema | JsonSchema[];
  enum?: unknown[];
  default?: unknown;
  examples?: unknown[];
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  $ref?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  definitions?: Record<string, JsonSchema>;
}

export const SCHEMAS: Record<ConfigKind, JsonSchema> = {
  'model-profile': modelProfileSchema as JsonSchema,
  'trainer-config': trainerConfigSchema as JsonSchema,
  'training-config': trainingConfigSchema as JsonSchema,
};

let ajv: Ajv | undefined;
const validators = new Map<ConfigKind, ValidateFunction>();

/** Compiled on first use (tens of milliseconds), then reused for every file. */
export function schemaErrors(kind: ConfigKind, data: unknown): ErrorObject[] {
  let validate = validators.get(kind);
  if (!validate) {
    ajv ??= new Ajv({ allErrors: true, strict: false, verbose: true });
    validate = ajv.compile(SCHEMAS[kind]);
    validators.set(kind, validate);
  }
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

/** The sub-schemas that apply at `path` ($ref followed; every anyOf/oneOf branch that fits the path). */
export function schemasAt(kind: ConfigKind, path: DataPath): JsonSchema[] {
  const root = SCHEMAS[kind];
  let current = expand(root, root);
  for (const segment of path) {
    const next: JsonSchema[] = [];
    for (const schema of current) {
      for (const child of childSchemas(schema, segment)) next.push(...expand(child, root));
    }
    if (next.length === 0) return [];
    current = next;
  }
  return current;
}

/** Description of the property at `path`: the referencing schema's own text wins over the target's. */
export function describeAt(kind: ConfigKind, path: DataPath): JsonSchema | undefined {
  const root = SCHEMAS[kind];
  const schemas = schemasAt(kind, path);
  if (schemas.length === 0) return undefined;
  const merged: JsonSchema = {};
  for (const schema of [...schemas].reverse()) Object.assign(merged, schema);
  const raw = rawSchemaAt(root, path);
  if (raw?.description) merged.description = raw.description;
  if (raw && 'default' in raw) merged.default = raw.default;
  return merged;
}

function rawSchemaAt(root: JsonSchema, path: DataPath): JsonSchema | undefined {
  let current: JsonSchema | undefined = root;
  for (const segment of path) {
    if (!current) return undefined;
    const candidates: JsonSchema[] = expand(current, root).flatMap((schema) => childSchemas(schema, segment));
    current = candidates[0];
  }
  return current;
}

function childSchemas(schema: JsonSchema, segment: string | number): JsonSchema[] {
  if (typeof segment === 'number' || /^\d+$/.test(String(segment))) {
    if (schema.items && !Array.isArray(schema.items)) return [schema.items];
    if (typeof segment === 'number') return [];
  }
  const key = String(segment);
  const property = schema.properties?.[key];
  if (property) return [property];
  for (const [pattern, child] of Object.entries(schema.patternProperties ?? {})) {
    if (new RegExp(pattern, 'u').test(key)) return [child];
  }
  return typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : [];
}

/** Follows local $refs and flattens anyOf/oneOf/allOf into the list of schemas that may apply. */
function expand(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema[] {
  if (depth > 16) return [];
  const own = { ...schema };
  const out: JsonSchema[] = [];
  if (schema.$ref) {
    const target = resolveRef(schema.$ref, root);
    if (target) out.push(...expand(target, root, depth + 1));
    delete own.$ref;
  }
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) {
    out.push(...expand(branch, root, depth + 1));
  }
  return [own, ...out];
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let current: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current as JsonSchema | undefined;
}

/** Every property name the schemas at `path` know. */
export function knownKeysAt(kind: ConfigKind, path: DataPath): string[] {
  const keys = new Set<string>();
  for (const schema of schemasAt(kind, path)) for (const key of Object.keys(schema.properties ?? {})) keys.add(key);
  return [...keys];
}

/** Every enum value (and true/false for booleans) the schemas at `path` allow. */
export function allowedValuesAt(kind: ConfigKind, path: DataPath): unknown[] {
  const values: unknown[] = [];
  for (const schema of schemasAt(kind, path)) {
    for (const value of schema.enum ?? []) if (!values.includes(value)) values.push(value);
    const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    if (types.includes('boolean')) for (const value of [true, false]) if (!values.includes(value)) values.push(value);
  }
  return values;
}
