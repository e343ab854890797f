/**
 * The Anthropic constrained-decoding dialect: what the decoder enforces stays, every object is closed, and
 * every other constraint moves into the description with a warning naming it — never silently dropped.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { fixtureJson } from '../test-support/fixtures.ts';
import { toAnthropicConstrained, whyNotConstrained } from './anthropic.ts';
import { SchemaWarnings, toJsonSchema } from './json-schema.ts';

function constrained(schema: Record<string, unknown>) {
  const warnings = new SchemaWarnings('responseFormat for anthropic');
  return { schema: toAnthropicConstrained(schema, warnings), warnings: warnings.list };
}

describe('toAnthropicConstrained', () => {
  test('the schema the Python SDK sent in the recorded structured-output exchange goes out unchanged', () => {
    const [exchange] = fixtureJson<
      Array<{ request: { body: { output_config: { format: { schema: object } } } } }>
    >('anthropic', 'exchange.nonstream.structured-output.json');
    const recorded = exchange!.request.body.output_config.format.schema as Record<string, unknown>;
    const { schema, warnings } = constrained(recorded);
    assert.deepEqual(schema, recorded);
    assert.deepEqual(warnings, []);
  });

  test('constraints the decoder does not enforce move into the description, each with a warning', () => {
    const { schema, warnings } = constrained(
      toJsonSchema(
        z.object({
          name: z.string().min(2).describe('Full name'),
          email: z.string().email(),
          age: z.number().int().min(0).max(150),
          tags: z.array(z.string()).min(1),
          scores: z.array(z.number()).min(3),
        }),
        'schema',
      ),
    );
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.equal(schema.$schema, undefined);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(properties.name, { type: 'string', description: 'Full name\n\n{minLength: 2}' });
    assert.equal(properties.email!.format, 'email', 'a format the decoder knows stays');
    assert.equal(properties.email!.pattern, undefined);
    assert.match(String(properties.email!.description), /^\{pattern: /);
    assert.equal(properties.age!.type, 'integer');
    assert.equal(properties.age!.minimum, undefined);
    assert.match(String(properties.age!.description), /minimum: 0/);
    assert.match(String(properties.age!.description), /maximum: 150/);
    assert.equal(properties.tags!.minItems, 1, 'minItems 0 and 1 stay');
    assert.equal(properties.scores!.minItems, undefined);
    assert.equal(properties.scores!.description, '{minItems: 3}');
    const said = warnings.map((warning) => warning.message).join('\n');
    for (const fragment of [
      '`minLength` at $.properties.name moved into the description',
      '`pattern` at $.properties.email moved',
      '`minimum` at $.properties.age',
      '`maximum` at $.properties.age',
      '`minItems` at $.properties.scores',
    ]) {
      assert.ok(said.includes(fragment), `${fragment}\n${said}`);
    }
    assert.ok(warnings.every((warning) => warning.code === 'schema-keyword-changed'));
  });

  test('every object is closed; an open map or `true` is a change said aloud, an absent one is not', () => {
    const { schema, warnings } = constrained({
      type: 'object',
      properties: {
        inner: { type: 'object', properties: { a: { type: 'string' } } },
        map: { type: 'object', additionalProperties: { type: 'number' } },
      },
      additionalProperties: true,
    });
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.equal(schema.additionalProperties, false);
    assert.equal(properties.inner!.additionalProperties, false);
    assert.deepEqual(properties.map, { type: 'object', properties: {}, additionalProperties: false });
    assert.deepEqual(
      warnings.map((warning) => warning.message.replace(/ \(.*$/, '')),
      [
        'responseFormat for anthropic: `additionalProperties` at $.properties.map forced to false',
        'responseFormat for anthropic: `additionalProperties` at $ forced to false',
      ],
    );
  });

  test('oneOf is sent as anyOf; $defs and draft-07 definitions are converted; nothing rides beside $ref', () => {
    const { schema, warnings } = constrained({
      type: 'object',
      properties: {
        pet: { oneOf: [{ $ref: '#/$defs/Cat' }, { $ref: '#/definitions/Dog', description: 'a dog' }] },
        color: { type: 'string', enum: ['red', 'green'] },
        fixed: { type: 'string', const: 'x' },
        when: { type: 'string', format: 'date-time' },
        slug: { type: 'string', format: 'regex' },
      },
      required: ['pet'],
      $defs: { Cat: { type: 'object', properties: { lives: { type: 'integer', maximum: 9 } } } },
      definitions: { Dog: { type: 'object', properties: { good: { type: 'boolean', default: true } } } },
    });
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.pet, { anyOf: [{ $ref: '#/$defs/Cat' }, { $ref: '#/definitions/Dog' }] });
    assert.deepEqual(
      properties.color,
      { enum: ['red', 'green'] },
      'the type beside literals says nothing more',
    );
    assert.deepEqual(properties.fixed, { const: 'x' });
    assert.deepEqual(properties.when, { type: 'string', format: 'date-time' });
    assert.deepEqual(properties.slug, { type: 'string', description: '{format: "regex"}' });
    assert.deepEqual(schema.required, ['pet']);
    const defs = schema.$defs as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
    assert.equal(defs.Cat!.additionalProperties, false);
    assert.equal(defs.Cat!.properties!.lives!.description, '{maximum: 9}');
    const definitions = schema.definitions as typeof defs;
    assert.equal(definitions.Dog!.properties!.good!.description, '{default: true}');
    const said = warnings.map((warning) => warning.message).join('\n');
    assert.match(said, /`oneOf` at \$\.properties\.pet sent as anyOf/);
    assert.match(
      said,
      /dropped `description` at \$\.properties\.pet\.oneOf\.1 \(the decoder takes nothing beside `\$ref`\)/,
    );
    assert.match(said, /`format` at \$\.properties\.slug moved into the description/);
  });

  test('a node with two combinators keeps the first and says it dropped the other', () => {
    const { schema, warnings } = constrained({
      anyOf: [{ type: 'string' }, { type: 'null' }],
      allOf: [{ type: 'string' }],
    });
    assert.deepEqual(schema, { anyOf: [{ type: 'string' }, { type: 'null' }] });
    assert.equal(warnings[0]!.code, 'schema-keyword-dropped');
    assert.match(warnings[0]!.message, /`allOf` at \$ .*`anyOf` came first/);
  });

  test('a node that says nothing of its shape is found before sending, with its path', () => {
    assert.equal(whyNotConstrained({ type: 'object', properties: { a: { type: 'string' } } }), undefined);
    assert.equal(
      whyNotConstrained({ type: 'object', properties: { data: {} } }),
      'a schema with no type at $.properties.data',
    );
    assert.equal(
      whyNotConstrained({ type: 'array', items: { anyOf: [{ type: 'string' }, true] } }),
      'a schema that allows anything at $.items.anyOf.1',
    );
    assert.equal(
      whyNotConstrained({ $ref: '#/$defs/A', $defs: { A: { description: 'x' } } }),
      'a schema with no type at $.$defs.A',
    );
  });
});
