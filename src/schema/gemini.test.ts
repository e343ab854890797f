/** Gemini's schema dialects: JSON Schema passed through, and the OpenAPI subset with every change said. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';
import { GEMINI_SCHEMA_FIELDS, isEmptyObjectSchema, toGeminiJsonSchema, toGeminiOpenApi } from './gemini.ts';
import { SchemaWarnings, toJsonSchema } from './json-schema.ts';

/** Every key of the converted schema, with its path, that Gemini's `Schema` message does not have. */
function unknownKeys(node: unknown, path = '$'): string[] {
  if (!isRecord(node)) return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (!GEMINI_SCHEMA_FIELDS.has(key)) found.push(`${path}.${key}`);
    if (key === 'properties' && isRecord(value)) {
      for (const [name, property] of Object.entries(value))
        found.push(...unknownKeys(property, `${path}.${name}`));
    } else if (key === 'items') found.push(...unknownKeys(value, `${path}.items`));
    else if (key === 'anyOf' && Array.isArray(value))
      value.forEach((branch, i) => {
        found.push(...unknownKeys(branch, `${path}.anyOf.${i}`));
      });
  }
  return found;
}

const fail = (message: string): never => {
  throw new Error(message);
};

function convert(schema: JsonSchema): { schema: JsonSchema; warnings: string[] } {
  const warnings = new SchemaWarnings('test');
  const converted = toGeminiOpenApi(schema, warnings, fail);
  assert.deepEqual(unknownKeys(converted), [], 'only keys Gemini knows');
  return { schema: converted, warnings: warnings.list.map((warning) => warning.message) };
}

describe('gemini JSON Schema dialect', () => {
  test('the schema goes as it is, without $schema', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { a: { anyOf: [{ type: 'string' }, { type: 'null' }] }, b: { $ref: '#/$defs/B' } },
      $defs: { B: { type: 'integer', minimum: 1 } },
      additionalProperties: false,
    };
    const { $schema: _meta, ...rest } = schema;
    assert.deepEqual(toGeminiJsonSchema(schema), rest);
  });
});

describe('gemini OpenAPI dialect', () => {
  test('a type list and an anyOf with null become nullable; several types an anyOf', () => {
    const { schema, warnings } = convert({
      type: 'object',
      properties: {
        a: { type: ['string', 'null'], description: 'maybe a string' },
        b: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
        c: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] },
        d: { type: ['string', 'integer'] },
      },
      required: ['a'],
    });
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        a: { type: 'string', description: 'maybe a string', nullable: true },
        b: { type: 'integer', minimum: 0, nullable: true },
        c: { anyOf: [{ type: 'string' }, { type: 'number' }], nullable: true },
        d: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      },
      required: ['a'],
    });
    assert.ok(warnings.some((warning) => /`type` at \$\.properties\.d is sent as anyOf/.test(warning)));
  });

  test('enums are strings; numeric ones say format enum; const is a one-value enum; oneOf is anyOf', () => {
    const { schema, warnings } = convert({
      type: 'object',
      properties: {
        size: { type: 'integer', enum: [1, 2, 3] },
        unit: { type: 'string', enum: ['c', 'f', null] },
        kind: { const: 'circle' },
        shape: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      },
    });
    assert.deepEqual(schema.properties, {
      size: { type: 'integer', enum: ['1', '2', '3'], format: 'enum' },
      unit: { type: 'string', enum: ['c', 'f'], nullable: true },
      kind: { enum: ['circle'], type: 'string' },
      shape: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
    });
    for (const keyword of ['enum', 'const', 'oneOf'])
      assert.ok(
        warnings.some((warning) => warning.includes(`\`${keyword}\``)),
        keyword,
      );
  });

  test('local $refs are inlined; a recursive one is an error', () => {
    const { schema } = convert({
      type: 'object',
      properties: { home: { $ref: '#/$defs/Address' }, work: { $ref: '#/definitions/Address' } },
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      definitions: { Address: { type: 'object', properties: { city: { type: 'string' } } } },
    });
    assert.deepEqual(schema.properties, {
      home: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      work: { type: 'object', properties: { city: { type: 'string' } } },
    });
    assert.throws(
      () =>
        toGeminiOpenApi(
          {
            type: 'object',
            properties: { root: { $ref: '#/$defs/Node' } },
            $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } },
          },
          new SchemaWarnings('test'),
          fail,
        ),
      /recursive/,
    );
  });

  test('allOf of objects is one object with every property and requirement', () => {
    const { schema } = convert({
      allOf: [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        { type: 'object', properties: { b: { type: 'number' } }, required: ['b'] },
      ],
    });
    assert.deepEqual(schema, {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a', 'b'],
    });
  });

  test('what the subset cannot say is dropped, each keyword once per place, with a warning', () => {
    const { schema, warnings } = convert({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        email: { type: 'string', format: 'email', minLength: 3 },
        when: { type: 'string', format: 'date-time' },
        score: { type: 'number', exclusiveMinimum: 0, maximum: 10, multipleOf: 0.5 },
        tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, examples: [['a']] },
        extra: { type: 'object', additionalProperties: { type: 'string' }, properties: {} },
        anything: {},
      },
      required: ['email', 'missing'],
      additionalProperties: false,
    });
    assert.deepEqual(schema, {
      type: 'object',
      properties: {
        email: { type: 'string', minLength: 3 },
        when: { type: 'string', format: 'date-time' },
        score: { type: 'number', maximum: 10 },
        tags: { type: 'array', items: { type: 'string' }, example: ['a'] },
        extra: { type: 'object' },
        anything: { type: 'string' },
      },
      required: ['email'],
    });
    const said = warnings.join('\n');
    for (const expected of [
      /dropped `format` at \$\.properties\.email/,
      /dropped `exclusiveMinimum` at \$\.properties\.score/,
      /dropped `multipleOf` at \$\.properties\.score/,
      /dropped `uniqueItems` at \$\.properties\.tags/,
      /dropped `additionalProperties` at \$\.properties\.extra/,
      /dropped `additionalProperties` at \$ /,
      /`type` at \$\.properties\.anything is missing/,
    ]) {
      assert.match(said, expected);
    }
    assert.ok(!said.includes('$schema'), '$schema goes without a word');
  });

  test('response schemas get propertyOrdering in the schema’s own order', () => {
    const converted = toGeminiOpenApi(
      {
        type: 'object',
        properties: { b: { type: 'string' }, a: { type: 'object', properties: { y: {}, x: {} } } },
      },
      new SchemaWarnings('test'),
      fail,
      { propertyOrdering: true },
    );
    assert.deepEqual(converted.propertyOrdering, ['b', 'a']);
    assert.deepEqual((converted.properties as Record<string, JsonSchema>).a!.propertyOrdering, ['y', 'x']);
  });

  test('a zod schema converts to keys Gemini knows only', () => {
    const Person = z.object({
      name: z.string().min(1),
      age: z.number().int().positive().optional(),
      role: z.enum(['admin', 'user']),
      tags: z.array(z.string()).max(5),
      manager: z.object({ name: z.string() }).nullable(),
      meta: z.record(z.string(), z.number()),
    });
    const { schema } = convert(toJsonSchema(Person, 'test'));
    assert.deepEqual(schema.required, ['name', 'role', 'tags', 'manager', 'meta']);
  });

  test('an object with no properties is a tool with no arguments', () => {
    assert.equal(isEmptyObjectSchema({ type: 'object', properties: {} }), true);
    assert.equal(isEmptyObjectSchema({ type: 'object' }), true);
    assert.equal(isEmptyObjectSchema({ type: 'object', properties: { a: { type: 'string' } } }), false);
    assert.equal(isEmptyObjectSchema({ type: 'object', additionalProperties: { type: 'string' } }), false);
  });
});
