import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { toBedrockConstrained } from './bedrock.ts';
import { SchemaWarnings, toJsonSchema } from './json-schema.ts';

function convert(schema: Record<string, unknown>) {
  const warnings = new SchemaWarnings('responseFormat');
  return { schema: toBedrockConstrained(schema, warnings), warnings: warnings.list };
}

describe('Bedrock constrained-decoding dialect', () => {
  test('every object is closed; absent additionalProperties needs no warning', () => {
    const { schema, warnings } = convert({
      type: 'object',
      properties: { address: { type: 'object', properties: { city: { type: 'string' } } } },
      required: ['address'],
    });
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        address: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false },
      },
      required: ['address'],
      additionalProperties: false,
    });
    assert.deepEqual(warnings, []);
  });

  test('an open map is closed with a warning that says what that changes', () => {
    const { schema, warnings } = convert({
      type: 'object',
      properties: { tags: { type: 'object', additionalProperties: { type: 'number' } } },
    });
    assert.equal(
      (schema.properties as { tags: { additionalProperties: unknown } }).tags.additionalProperties,
      false,
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'schema-keyword-changed');
    assert.match(warnings[0]!.message, /additionalProperties.*\$\.properties\.tags.*closed objects/);
  });

  test('numeric, length and size constraints move into the description, each with a warning', () => {
    const { schema, warnings } = convert({
      type: 'object',
      properties: {
        age: { type: 'integer', minimum: 0, maximum: 150, description: 'Age in years' },
        name: { type: 'string', minLength: 2, pattern: '^[A-Z]' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 5 },
        ids: { type: 'array', items: { type: 'string' }, minItems: 3 },
      },
    });
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.age, {
      type: 'integer',
      description: 'Age in years (minimum: 0; maximum: 150)',
    });
    assert.deepEqual(properties.name, { type: 'string', description: 'minLength: 2; pattern: "^[A-Z]"' });
    assert.deepEqual(properties.tags, {
      type: 'array',
      items: { type: 'string' },
      minItems: 1,
      description: 'maxItems: 5',
    });
    assert.deepEqual(properties.ids, {
      type: 'array',
      items: { type: 'string' },
      description: 'minItems: 3',
    });
    assert.deepEqual(
      warnings.map((warning) => warning.message.match(/`(\w+)`/)?.[1]),
      ['minimum', 'maximum', 'minLength', 'pattern', 'maxItems', 'minItems'],
    );
  });

  test('oneOf becomes anyOf; known formats stay, others are described; $schema and unknown keywords go', () => {
    const { schema, warnings } = convert({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        when: { type: 'string', format: 'date-time' },
        site: { type: 'string', format: 'iri' },
        either: { oneOf: [{ type: 'string' }, { type: 'number' }] },
      },
      examples: [{}],
    });
    assert.equal(schema.$schema, undefined);
    assert.equal(schema.examples, undefined);
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.equal(properties.when!.format, 'date-time');
    assert.deepEqual(properties.site, { type: 'string', description: 'format: "iri"' });
    assert.deepEqual(properties.either, { anyOf: [{ type: 'string' }, { type: 'number' }] });
    assert.deepEqual(
      warnings.map((warning) => warning.code),
      ['schema-keyword-changed', 'schema-keyword-changed', 'schema-keyword-dropped'],
    );
  });

  test('$defs are converted too; a zod schema keeps its shape', () => {
    const json = toJsonSchema(
      z.object({ items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })) }),
      'schema',
    );
    const { schema } = convert(json);
    const item = (schema.properties as { items: { items: Record<string, unknown> } }).items.items;
    assert.equal(item.additionalProperties, false);
    assert.deepEqual(item.required, ['sku', 'qty']);
    const refs = convert({ $defs: { A: { type: 'object', properties: {} } }, $ref: '#/$defs/A' });
    assert.deepEqual(refs.schema, {
      $defs: { A: { type: 'object', properties: {}, additionalProperties: false } },
      $ref: '#/$defs/A',
    });
  });
});
