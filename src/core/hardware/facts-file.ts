// Reads a facts file (`vin-ocr doctor --facts FILE`, `validate --facts FILE`): JSON checked against
// schemas/hardware-facts.schema.json, with one readable message for whatever is wrong.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../../schemas/hardware-facts.schema.json';
import type { HardwareFacts } from './types';

export type ParsedFacts = { ok: true; facts: HardwareFacts } | { ok: false; error: string };

let validator: ValidateFunction | undefined;

function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(schema);
  return validator(value) ? [] : (validator.errors ?? []);
}

/** "/gpus/0/vram_mib must be number,null" → "gpus[0].vram_mib must be number or null". */
function describe(error: ErrorObject): string {
  const where =
    error.instancePath
      .split('/')
      .filter(Boolean)
      .map((part, index) => (/^\d+$/.test(part) ? `[${part}]` : `${index === 0 ? '' : '.'}${part}`))
      .join('') || 'the facts';
  if (error.keyword === 'required')
    return `missing "${String(error.params.missingProperty)}"${where === 'the facts' ? '' : ` in ${where}`}`;
  if (error.keyword === 'enum')
    return `${where} must be one of ${(error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`;
  return `${where} ${(error.message ?? 'is invalid').replace(/,/g, ' or ')}`;
}

/** oneOf failures repeat every branch's complaint; keep the specific ones. */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((error) => error.keyword !== 'oneOf' && !(error.keyword === 'type' && error.params.type === 'null'));
  return specific.length > 0 ? specific : errors;
}

export function parseFacts(text: string): ParsedFacts {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, error: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const errors = relevant(validate(value));
  if (errors.length > 0) {
    const messages = [...new Set(errors.map(describe))];
    const shown = messages.slice(0, 5).join('; ');
    return { ok: false, error: `not a hardware-facts file: ${shown}${messages.length > 5 ? ` (and ${messages.length - 5} more)` : ''}` };
  }
  return { ok: true, facts: value as HardwareFacts };
}
