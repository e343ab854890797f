import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromPattern, instanceOf } from './instance.ts';
import { validateJsonSchema } from './validate.ts';

const SCHEMAS: Record<string, Record<string, unknown>> = {
  weather: {
    type: 'object',
    properties: {
      location: { type: 'string', description: 'City' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1, maximum: 7 },
    },
    required: ['location'],
    additionalProperties: false,
  },
  formats: {
    type: 'object',
    properties: Object.fromEntries(
      ['email', 'date-time', 'date', 'time', 'uri', 'uuid', 'ipv4', 'ipv6', 'hostname', 'duration'].map(
        (f) => [f, { type: 'string', format: f }],
      ),
    ),
    required: ['email', 'uuid'],
  },
  bounds: {
    type: 'object',
    properties: {
      short: { type: 'string', minLength: 3, maxLength: 5 },
      long: { type: 'string', minLength: 40 },
      ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      step: { type: 'integer', multipleOf: 5, minimum: 11, maximum: 29 },
      code: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
      tags: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 4, uniqueItems: true },
      none: { type: 'array', items: { type: 'integer' }, maxItems: 0 },
    },
    required: ['short', 'long', 'ratio', 'step', 'code', 'tags', 'none'],
  },
  nested: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    $defs: {
      person: {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: ['integer', 'null'] } },
        required: ['name', 'age'],
      },
    },
    properties: {
      people: { type: 'array', items: { $ref: '#/$defs/person' }, minItems: 1 },
      lead: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/person' }] },
      kind: { const: 'team' },
      meta: {
        allOf: [
          { type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] },
          { properties: { b: { type: 'number' } }, required: ['b'] },
        ],
      },
      pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
    },
    required: ['people', 'lead', 'kind', 'meta', 'pair'],
  },
  draft07: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    definitions: { id: { type: 'string', pattern: '^id_[a-z0-9]{6}$' } },
    properties: {
      id: { $ref: '#/definitions/id' },
      open: { type: 'object', additionalProperties: { type: 'number' }, minProperties: 2 },
    },
    required: ['id', 'open'],
  },
};

for (const [name, schema] of Object.entries(SCHEMAS)) {
  test(`an instance of the ${name} schema validates, for any seed, and is the same for the same seed`, () => {
    for (const seed of ['', 'a', 'what is the weather in Paris?', 'x'.repeat(100)]) {
      const value = instanceOf(schema, seed);
      const outcome = validateJsonSchema(schema, value);
      assert.ok(
        outcome.ok,
        `${name} / ${JSON.stringify(seed)}: ${JSON.stringify(value)} → ${JSON.stringify(outcome)}`,
      );
      assert.deepEqual(instanceOf(schema, seed), value);
    }
  });
}

test('every property is present, required or not', () => {
  const value = instanceOf(SCHEMAS.weather!) as Record<string, unknown>;
  assert.deepEqual(Object.keys(value).sort(), ['days', 'location', 'unit']);
});

test('simple patterns give matching strings; what is not understood gives undefined, never a wrong string', () => {
  for (const pattern of ['^[A-Z]{3}$', '^\\d{5}(-\\d{4})?$', '^(foo|bar)+baz$', '^[a-z0-9_]{3,8}$', 'ab.c']) {
    const text = fromPattern(pattern);
    assert.ok(text !== undefined && new RegExp(pattern, 'u').test(text), `${pattern} → ${text}`);
  }
  for (const pattern of ['^[^a]$', '(?=x)x', '\\bword'])
    assert.equal(fromPattern(pattern), undefined, pattern);
});
