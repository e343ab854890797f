/**
 * generateObject and streamObject: native and forced-tool modes against the emulator, schemas that are not
 * objects at their root, and every way an answer can fail, from real wire payloads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { LLMBadRequestError, LLMOutputValidationError } from '../spec/errors.ts';
import { startReplayServer } from '../test-support/replay-server.ts';
import { LLMClientFactory } from './factory.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
const llm = () =>
  factory.createClient('openai/gpt-4o', { apiKey: 'test-key-not-real', baseURL: `${emulator.url}/v1` });
const lastBody = () => emulator.requests.at(-1)!.body as Record<string, unknown>;

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const Entities = z.object({
  people: z.array(z.object({ name: z.string(), role: z.string().optional() })),
  places: z.array(z.string()),
});

describe('generateObject', () => {
  test('native mode sends the schema as the response format; the object is validated', async () => {
    const { object, result } = await llm().generateObject({
      schema: Entities,
      prompt: 'Ada met Charles in London.',
    });
    assert.ok(Entities.safeParse(object).success);
    assert.equal((lastBody().response_format as { type: string }).type, 'json_schema');
    assert.equal(result.provider, 'openai');
  });

  test('tool mode forces one call to a tool whose arguments are the answer', async () => {
    const { object } = await llm().generateObject({
      schema: Entities,
      prompt: 'x',
      mode: 'tool',
      name: 'entities',
    });
    assert.ok(Entities.safeParse(object).success);
    const body = lastBody();
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'entities' } });
    assert.equal(body.parallel_tool_calls, false);
    assert.equal(body.response_format, undefined);
  });

  test('a schema that is not an object at its root is wrapped on the wire and unwrapped in the answer', async () => {
    const Tags = z.array(z.string()).min(1);
    for (const mode of ['native', 'tool'] as const) {
      const { object } = await llm().generateObject({ schema: Tags, prompt: 'tags', mode });
      assert.ok(Array.isArray(object) && object.length > 0, JSON.stringify(object));
    }
  });

  test('streamObject in tool mode grows the object from the call arguments', async () => {
    const events = [];
    for await (const event of llm().streamObject({ schema: Entities, prompt: 'x', mode: 'tool' }))
      events.push(event);
    const final = events.at(-1)!;
    assert.equal(final.type, 'object');
    assert.ok(events.length > 3);
    assert.deepEqual(events.at(-2)!.object, final.object);
  });

  test('fields generateObject sets itself are refused', async () => {
    for (const field of ['tools', 'toolChoice', 'responseFormat']) {
      await assert.rejects(
        llm().generateObject({ schema: Entities, prompt: 'x', [field]: 'auto' } as never),
        (error: unknown) => error instanceof LLMBadRequestError && error.message.includes(field),
      );
    }
  });
});

describe('what can go wrong with an answer', () => {
  const answer = (content: string) =>
    JSON.stringify({
      id: 'chatcmpl-1',
      model: 'gpt-4o',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });

  for (const [name, content, issue] of [
    ['not JSON', 'Sure! Here it is: {"people": []}', /not JSON/],
    ['JSON of the wrong shape', '{"people": [{"role": "x"}], "places": "London"}', /\$\.people\.0\.name/],
  ] as const) {
    test(`${name}: LLMOutputValidationError with the text and the issues`, async () => {
      const server = await startReplayServer([{ body: answer(content) }]);
      try {
        const client = factory.createClient('openai/gpt-4o', {
          apiKey: 'k-not-real',
          baseURL: `${server.url}/v1`,
        });
        const error = await client
          .generateObject({ schema: Entities, prompt: 'x' })
          .catch((caught: unknown) => caught);
        assert.ok(error instanceof LLMOutputValidationError, String(error));
        assert.equal(error.code, 'output_validation');
        assert.equal(error.text, content);
        assert.ok(
          error.issues.some((item) => issue.test(`${item.path}: ${item.message}`)),
          JSON.stringify(error.issues),
        );
      } finally {
        await server.close();
      }
    });
  }

  test("strict mode's null for an optional property is not the caller's: the caller's schema accepts it", async () => {
    const server = await startReplayServer([
      { body: answer('{"people": [{"name": "Ada", "role": null}], "places": []}') },
    ]);
    try {
      const client = factory.createClient('openai/gpt-4o', {
        apiKey: 'k-not-real',
        baseURL: `${server.url}/v1`,
      });
      const { object } = await client.generateObject({ schema: Entities, prompt: 'x' });
      assert.deepEqual(object, { people: [{ name: 'Ada' }], places: [] });
    } finally {
      await server.close();
    }
  });
});
