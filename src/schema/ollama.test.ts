/** The Ollama tool-schema dialect: what survives Ollama's Go structs, what is said instead of dropped. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { SchemaWarnings } from './json-schema.ts';
import { toOllamaToolParameters } from './ollama.ts';

const fail = (message: string): never => {
  throw new Error(message);
};

function convert(schema: Record<string, unknown>) {
  const warnings = new SchemaWarnings('tool t');
  const out = toOllamaToolParameters(schema, warnings, fail);
  return { out, messages: warnings.list.map((warning) => `${warning.code}: ${warning.message}`) };
}

describe('toOllamaToolParameters', () => {
  test('a schema made only of kept keywords goes out unchanged, with no warning', () => {
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'The city' },
        unit: { type: ['string', 'null'], enum: ['c', 'f', null] },
        tags: { type: 'array', items: { type: 'string', minLength: 2 } },
        address: {
          type: 'object',
          properties: { street: { type: 'string' } },
          required: ['street'],
        },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
      },
      required: ['city'],
    };
    const { out, messages } = convert(schema);
    assert.deepEqual(out, schema);
    assert.deepEqual(messages, [], 'items are kept whole by Ollama, so minLength inside them is not touched');
  });

  test('constraints go into the description, each said; what a model cannot read is dropped, each said', () => {
    const { out, messages } = convert({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      title: 'Args',
      properties: {
        days: { type: 'integer', description: 'How many days', minimum: 1, maximum: 5 },
        email: { type: 'string', format: 'email' },
        kind: { const: 'forecast' },
        shape: { oneOf: [{ type: 'string', title: 'Name' }, { type: 'integer' }] },
        extra: { type: 'object', additionalProperties: { type: 'number' } },
      },
      required: ['days'],
      additionalProperties: false,
    });
    assert.deepEqual(out, {
      type: 'object',
      properties: {
        days: { type: 'integer', description: 'How many days (minimum 1, maximum 5)' },
        email: { type: 'string', description: 'format "email"' },
        kind: { enum: ['forecast'] },
        shape: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
        extra: { type: 'object' },
      },
      required: ['days'],
    });
    assert.deepEqual(messages, [
      "schema-keyword-dropped: tool t: dropped `title` at $ (Ollama's tool schema has no `title`; the arguments are still validated against it)",
      "schema-keyword-changed: tool t: `minimum` at $.properties.days written into the description (Ollama's tool schema has no `minimum`; the arguments are still validated against it)",
      "schema-keyword-changed: tool t: `maximum` at $.properties.days written into the description (Ollama's tool schema has no `maximum`; the arguments are still validated against it)",
      "schema-keyword-changed: tool t: `format` at $.properties.email written into the description (Ollama's tool schema has no `format`; the arguments are still validated against it)",
      'schema-keyword-changed: tool t: `const` at $.properties.kind sent as a one-value enum (Ollama keeps no const)',
      'schema-keyword-changed: tool t: `oneOf` at $.properties.shape sent as anyOf (Ollama keeps no oneOf)',
      "schema-keyword-dropped: tool t: dropped `title` at $.properties.shape.oneOf.0 (Ollama's tool schema has no `title`; the arguments are still validated against it)",
      "schema-keyword-dropped: tool t: dropped `additionalProperties` at $.properties.extra (Ollama's tool schema has no `additionalProperties`; the arguments are still validated against it)",
      "schema-keyword-dropped: tool t: dropped `additionalProperties` at $ (Ollama's tool schema has no `additionalProperties`; the arguments are still validated against it)",
    ]);
  });

  test('local $refs are inlined (a property $ref would reach the model empty); a recursive one is an error', () => {
    const { out, messages } = convert({
      type: 'object',
      properties: { home: { $ref: '#/$defs/Address' }, work: { $ref: '#/$defs/Address' } },
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } } } },
    });
    const address = { type: 'object', properties: { city: { type: 'string' } } };
    assert.deepEqual(out, { type: 'object', properties: { home: address, work: address } });
    assert.deepEqual(messages, []);
    assert.throws(
      () =>
        convert({
          type: 'object',
          properties: { node: { $ref: '#/$defs/Node' } },
          $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } },
        }),
      /recursive/,
    );
  });

  test('a zod schema: its closed objects and bounds are said, its shape kept', () => {
    const json = z
      .object({ city: z.string().min(2), days: z.number().int().optional() })
      .toJSONSchema() as Record<string, unknown>;
    const { out, messages } = convert(json);
    assert.deepEqual(Object.keys(out).sort(), ['properties', 'required', 'type']);
    const properties = out.properties as Record<string, { type: string; description?: string }>;
    assert.equal(properties.city?.description, 'minLength 2');
    assert.equal(properties.days?.type, 'integer');
    assert.ok(messages.some((message) => message.includes('`additionalProperties` at $')));
  });

  test('a root without type gets type object; a boolean property schema becomes {}', () => {
    const { out, messages } = convert({ properties: { any: true, none: false } });
    assert.deepEqual(out, { type: 'object', properties: { any: {}, none: {} } });
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /`false` at \$\.properties\.none sent as \{\}/);
  });
});
