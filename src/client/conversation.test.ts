/**
 * The conversation fields of a request are checked before anything is sent, and every mistake names its
 * field; schemas from zod, valibot and arktype become JSON Schema; media in every accepted shape becomes
 * base64 with a media type or a URL.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toStandardJsonSchema } from '@valibot/to-json-schema';
import { type } from 'arktype';
import * as v from 'valibot';
import { z } from 'zod';
import { LLMBadRequestError } from '../spec/errors.ts';
import type { CompletionRequest } from '../spec/types.ts';
import { sniffMediaType, toMediaSource } from './media.ts';
import { normalizeRequest } from './request.ts';

const normalize = (request: CompletionRequest) => normalizeRequest(request, 'model-x');

function rejects(request: unknown, field: RegExp): void {
  assert.throws(
    () => normalize(request as CompletionRequest),
    (error: unknown) => error instanceof LLMBadRequestError && field.test(error.message),
    `expected a bad request naming ${field}`,
  );
}

describe('messages and parts', () => {
  test('string content becomes one text part; parts keep their order', () => {
    const request = normalize({
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'think', providerMetadata: { anthropic: { signature: 'sig' } } },
            { type: 'text', text: 'calling' },
            { type: 'tool-call', id: 'c1', name: 'f', arguments: '{"a":1}' },
          ],
        },
        { role: 'tool', toolCallId: 'c1', content: 'result' },
      ],
    });
    assert.deepEqual(request.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'think', providerMetadata: { anthropic: { signature: 'sig' } } },
          { type: 'text', text: 'calling' },
          { type: 'tool-call', id: 'c1', name: 'f', arguments: '{"a":1}' },
        ],
      },
      {
        role: 'tool',
        toolCallId: 'c1',
        toolName: 'f',
        content: [{ type: 'text', text: 'result' }],
        isError: false,
      },
    ]);
  });

  test('every mistake names its field', () => {
    rejects({ messages: [{ role: 'robot', content: 'x' }] }, /messages\[0\]\.role/);
    rejects({ messages: [{ role: 'user', content: 42 }] }, /messages\[0\]\.content/);
    rejects({ messages: [{ role: 'user', content: [] }] }, /messages\[0\]\.content/);
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
      /messages\[0\]\.content\[0\]\.type/,
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'image' }] }] },
      /messages\[0\]\.content\[0\]\.image/,
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'file', data: 'aGVsbG8=' }] }] },
      /messages\[0\]\.content\[0\]\.mediaType/,
    );
    rejects(
      {
        messages: [
          { role: 'assistant', content: [{ type: 'tool-call', id: 'c', name: 'f', arguments: { a: 1 } }] },
        ],
      },
      /messages\[0\]\.content\[0\]\.arguments.*JSON\.stringify/,
    );
    rejects(
      {
        messages: [
          { role: 'assistant', content: [{ type: 'tool-call', id: '', name: 'f', arguments: '{}' }] },
        ],
      },
      /\.id/,
    );
    rejects({ messages: [{ role: 'tool', content: 'x' }] }, /messages\[0\]\.toolCallId/);
    rejects(
      { messages: [{ role: 'tool', toolCallId: 'nope', content: 'x' }] },
      /messages\[0\].*"nope".*result\.message/,
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'image', image: 'not base64 at all!' }] }] },
      /messages\[0\]\.content\[0\]\.image/,
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'image', image: 'aGVsbG8gd29ybGQ=' }] }] },
      /not recognised; pass `mediaType`/,
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'image', image: 'ftp://x/y.png' }] }] },
      /must be bytes|ftp/,
    );
  });

  test('a tool message finds its tool name from the call it answers, or keeps the one given', () => {
    const request = normalize({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [{ type: 'tool-call', id: 'a', name: 'lookup', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'a', content: 'r' },
        { role: 'assistant', content: [{ type: 'tool-call', id: 'b', name: 'other', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'b', toolName: 'renamed', content: 'r', isError: true },
      ],
    });
    const tools = request.messages.filter((message) => message.role === 'tool');
    assert.deepEqual(
      tools.map((message) => [message.toolName, message.isError]),
      [
        ['lookup', false],
        ['renamed', true],
      ],
    );
  });
});

describe('media in every accepted shape', () => {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(8)]);
  test('bytes, ArrayBuffer, base64, data: URLs and https: URLs', () => {
    const base64 = png.toString('base64');
    const expected = { kind: 'base64', data: base64, mediaType: 'image/png' };
    assert.deepEqual(toMediaSource(png, undefined, 'f', 'image'), expected);
    assert.deepEqual(toMediaSource(new Uint8Array(png).buffer, undefined, 'f', 'image'), expected);
    assert.deepEqual(toMediaSource(base64, undefined, 'f', 'image'), expected);
    assert.deepEqual(toMediaSource(`data:image/png;base64,${base64}`, undefined, 'f', 'image'), expected);
    assert.deepEqual(toMediaSource('data:text/plain,hello%20there', undefined, 'f', 'file'), {
      kind: 'base64',
      data: Buffer.from('hello there').toString('base64'),
      mediaType: 'text/plain',
    });
    assert.deepEqual(toMediaSource('https://example.com/a/cat.JPG?x=1', undefined, 'f', 'image'), {
      kind: 'url',
      url: 'https://example.com/a/cat.JPG?x=1',
      mediaType: 'image/jpeg',
    });
    assert.deepEqual(toMediaSource(new URL('https://example.com/doc'), 'application/pdf', 'f', 'file'), {
      kind: 'url',
      url: 'https://example.com/doc',
      mediaType: 'application/pdf',
    });
  });

  test('the first bytes say what an image is', () => {
    assert.equal(sniffMediaType(Buffer.from('ffd8ffe0', 'hex')), 'image/jpeg');
    assert.equal(sniffMediaType(Buffer.from('GIF89a')), 'image/gif');
    assert.equal(sniffMediaType(Buffer.from('RIFF\0\0\0\0WEBPVP8 ')), 'image/webp');
    assert.equal(sniffMediaType(Buffer.from('%PDF-1.7')), 'application/pdf');
    assert.equal(sniffMediaType(Buffer.from('hello')), undefined);
  });
});

describe('tools, tool choice, response format, reasoning, provider options', () => {
  const tool = {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  };

  test('zod, valibot and arktype schemas become JSON Schema (converted once per schema)', () => {
    const zod = z.object({ city: z.string() });
    const valibot = toStandardJsonSchema(v.object({ city: v.string() }));
    const ark = type({ city: 'string' });
    for (const parameters of [zod, valibot, ark]) {
      const request = normalize({ prompt: 'x', tools: [{ name: 't', parameters }] });
      const schema = request.tools![0]!.parameters;
      assert.equal(schema.type, 'object');
      assert.deepEqual(schema.required, ['city']);
      assert.deepEqual((schema.properties as Record<string, unknown>).city, { type: 'string' });
      assert.equal(
        normalize({ prompt: 'x', tools: [{ name: 't', parameters }] }).tools![0]!.parameters,
        schema,
      );
    }
  });

  test('a Standard Schema without JSON Schema support is a clear error', () => {
    rejects(
      { prompt: 'x', tools: [{ name: 't', parameters: v.object({ a: v.string() }) }] },
      /valibot.*toStandardJsonSchema/,
    );
  });

  test('tool and choice mistakes name the field', () => {
    rejects({ prompt: 'x', tools: [{ ...tool, name: 'get weather' }] }, /tools\[0\]\.name/);
    rejects({ prompt: 'x', tools: [tool, tool] }, /tools\[1\]\.name.*unique/);
    rejects(
      { prompt: 'x', tools: [{ name: 't', parameters: { type: 'string' } }] },
      /tools\[0\]\.parameters.*object/,
    );
    rejects({ prompt: 'x', tools: [{ name: 't' }] }, /tools\[0\]\.parameters/);
    rejects({ prompt: 'x', toolChoice: 'required' }, /toolChoice.*with `tools`/);
    rejects(
      { prompt: 'x', tools: [tool], toolChoice: { type: 'tool', name: 'other' } },
      /toolChoice\.name.*get_weather/,
    );
    rejects({ prompt: 'x', tools: [tool], toolChoice: 'sometimes' }, /toolChoice/);
    rejects({ prompt: 'x', tools: [tool], parallelToolCalls: 'no' }, /parallelToolCalls/);
  });

  test('response format, reasoning and provider options are checked', () => {
    assert.deepEqual(
      normalize({ prompt: 'x', responseFormat: { type: 'json-schema', schema: tool.parameters } })
        .responseFormat,
      {
        type: 'json-schema',
        schema: tool.parameters,
        name: 'response',
        strict: true,
      },
    );
    assert.equal(normalize({ prompt: 'x', responseFormat: { type: 'text' } }).responseFormat, undefined);
    rejects({ prompt: 'x', responseFormat: { type: 'xml' } }, /responseFormat\.type/);
    rejects({ prompt: 'x', responseFormat: { type: 'json-schema', schema: 5 } }, /responseFormat\.schema/);
    rejects(
      { prompt: 'x', responseFormat: { type: 'json-schema', schema: {}, name: 'a b' } },
      /responseFormat\.name/,
    );
    rejects({ prompt: 'x', reasoning: { effort: 'extreme' } }, /reasoning\.effort/);
    rejects({ prompt: 'x', reasoning: { budgetTokens: -1 } }, /reasoning\.budgetTokens/);
    rejects({ prompt: 'x', providerOptions: { temperature: 1 } }, /keyed by provider name.*`temperature`/);
    rejects({ prompt: 'x', providerOptions: { openai: 'fast' } }, /providerOptions\.openai/);
  });
});
