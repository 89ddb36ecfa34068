import * as assert from 'node:assert/strict';
import Ajv from 'ajv';
import { CONFIG_KINDS } from '../../../src/core/config/kinds';
import { SCHEMAS, type JsonSchema } from '../../../src/core/config/schemas';

/** Every property of every schema, with its dotted path. */
function properties(schema: JsonSchema, prefix = ''): Array<[string, JsonSchema]> {
  const out: Array<[string, JsonSchema]> = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    out.push([`${prefix}${name}`, child]);
    out.push(...properties(child, `${prefix}${name}.`));
    if (child.items && !Array.isArray(child.items)) out.push(...properties(child.items, `${prefix}${name}[].`));
  }
  return out;
}

describe('the config JSON Schemas', () => {
  for (const kind of CONFIG_KINDS) {
    const schema = SCHEMAS[kind];

    it(`${kind} is a valid draft-07 schema (the dialect Red Hat's YAML extension understands)`, () => {
      assert.equal((schema as { $schema?: string }).$schema, 'http://json-schema.org/draft-07/schema#');
      const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true });
      assert.doesNotThrow(() => ajv.compile(schema));
    });

    it(`${kind} describes every property (the hover text)`, () => {
      const undocumented = properties(schema)
        .filter(([, property]) => !property.description)
        .map(([path]) => path);
      assert.deepEqual(undocumented, []);
    });

    it(`${kind} gives every enum a default or lists it in the description`, () => {
      for (const [path, property] of properties(schema)) {
        if (!property.enum) continue;
        const named = property.enum.every((value) => String(property.description).includes(String(value)));
        assert.ok(named || property.default !== undefined, `${path}: say what each value means, or give a default`);
      }
    });
  }
});
