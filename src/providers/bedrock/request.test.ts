/**
 * What the Converse body says for reasoning, images and documents, structured output and provider options,
 * per model family — and what fails before anything is sent.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { normalizeRequest } from '../../client/request.ts';
import { LLMBadRequestError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { CompletionRequest } from '../../spec/types.ts';
import { bedrockCapabilities } from './capabilities.ts';
import { resolveBedrock } from './config.ts';
import { converseBody } from './request.ts';

const CLAUDE_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
// biome-ignore lint/suspicious/noExplicitAny: the body is read as loosely typed JSON
type Json = Record<string, any>;

function build(request: CompletionRequest, model = CLAUDE_45): { body: Json; warnings: string[] } {
  const { body, warnings } = converseBody(normalizeRequest(request, model));
  return { body: JSON.parse(body) as Json, warnings: warnings.map((warning) => warning.message) };
}

const fails =
  (request: CompletionRequest, model = CLAUDE_45) =>
  () =>
    build(request, model);
const weather = {
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('reasoning per family', () => {
  test('Claude 4.5: a thinking budget inside maxTokens; effort maps to a budget', () => {
    const budget = build({ prompt: 'x', reasoning: { budgetTokens: 3000 }, maxTokens: 8000 });
    assert.deepEqual(budget.body.additionalModelRequestFields, {
      thinking: { type: 'enabled', budget_tokens: 3000 },
    });
    assert.equal(budget.body.inferenceConfig.maxTokens, 8000);
    const effort = build({ prompt: 'x', reasoning: { effort: 'high' } });
    assert.deepEqual(effort.body.additionalModelRequestFields.thinking, {
      type: 'enabled',
      budget_tokens: 16_384,
    });
    assert.equal(
      effort.body.inferenceConfig.maxTokens,
      16_384 + 4096,
      'room for the answer when maxTokens is not given',
    );
    const clamped = build({ prompt: 'x', reasoning: { effort: 'high' }, maxTokens: 5000 });
    assert.equal(clamped.body.additionalModelRequestFields.thinking.budget_tokens, 4999);
    assert.throws(
      fails({ prompt: 'x', reasoning: { budgetTokens: 6000 }, maxTokens: 5000 }),
      (error: unknown) =>
        error instanceof LLMBadRequestError &&
        /budget \(6000 tokens\) must be less than maxTokens \(5000\)/.test(error.message),
    );
    assert.equal(
      build({ prompt: 'x', reasoning: { effort: 'none' } }).body.additionalModelRequestFields,
      undefined,
    );
  });

  test('Claude while thinking: temperature and topP are not sent, with warnings', () => {
    const { body, warnings } = build({
      prompt: 'x',
      reasoning: { effort: 'low' },
      temperature: 0.3,
      topP: 0.9,
    });
    assert.equal(body.inferenceConfig.temperature, undefined);
    assert.equal(body.inferenceConfig.topP, undefined);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /temperature is not sent/);
  });

  test('Claude 4.6 effort → adaptive thinking; Opus 4.7 → adaptive only, summarized, no sampling', () => {
    const sonnet46 = build(
      { prompt: 'x', reasoning: { effort: 'xhigh' } },
      'global.anthropic.claude-sonnet-4-6',
    );
    assert.deepEqual(sonnet46.body.additionalModelRequestFields, {
      thinking: { type: 'adaptive' },
      output_config: { effort: 'max' },
    });
    const withBudget = build(
      { prompt: 'x', reasoning: { budgetTokens: 2048 } },
      'global.anthropic.claude-sonnet-4-6',
    );
    assert.equal(withBudget.body.additionalModelRequestFields.thinking.type, 'enabled');
    const opus47 = build(
      { prompt: 'x', reasoning: { budgetTokens: 20_000 }, temperature: 0.5 },
      'us.anthropic.claude-opus-4-7',
    );
    assert.deepEqual(opus47.body.additionalModelRequestFields, {
      thinking: { type: 'adaptive', display: 'summarized' },
      output_config: { effort: 'high' },
    });
    assert.equal(opus47.body.inferenceConfig, undefined);
    assert.equal(opus47.warnings.length, 2);
  });

  test('Nova 2 reasoningConfig (high unsets maxTokens); gpt-oss reasoning_effort; Llama has none', () => {
    const nova = build(
      { prompt: 'x', reasoning: { effort: 'xhigh' }, maxTokens: 500 },
      'us.amazon.nova-2-lite-v1:0',
    );
    assert.deepEqual(nova.body.additionalModelRequestFields, {
      reasoningConfig: { type: 'enabled', maxReasoningEffort: 'high' },
    });
    assert.equal(nova.body.inferenceConfig, undefined);
    assert.match(nova.warnings[0]!, /maxTokens unset/);
    const oss = build({ prompt: 'x', reasoning: { budgetTokens: 9000 } }, 'openai.gpt-oss-120b-1:0');
    assert.deepEqual(oss.body.additionalModelRequestFields, { reasoning_effort: 'medium' });
    assert.match(oss.warnings[0]!, /budgetTokens is sent as effort medium/);
    assert.throws(
      fails({ prompt: 'x', reasoning: { effort: 'low' } }, 'meta.llama3-1-70b-instruct-v1:0'),
      (error: unknown) =>
        error instanceof LLMUnsupportedError && /does not support reasoning/.test(error.message),
    );
    assert.throws(
      fails({ prompt: 'x', reasoning: { effort: 'low' } }, 'anthropic.claude-3-5-haiku-20241022-v1:0'),
      LLMUnsupportedError,
    );
  });

  test('a forced tool while Claude thinks fails before sending, as Bedrock would refuse it', () => {
    for (const toolChoice of ['required', { type: 'tool', name: 'get_weather' }] as const) {
      assert.throws(
        fails({ prompt: 'x', tools: [weather], toolChoice, reasoning: { effort: 'low' } }),
        (error: unknown) =>
          error instanceof LLMUnsupportedError &&
          /forced tool choice .* while reasoning is on/.test(error.message),
      );
    }
    const nova = build(
      { prompt: 'x', tools: [weather], toolChoice: 'required', reasoning: { effort: 'low' } },
      'us.amazon.nova-2-lite-v1:0',
    );
    assert.deepEqual(nova.body.toolConfig.toolChoice, { any: {} });
  });
});

describe('images and documents as bytes', () => {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(8)]);
  const pdf = Buffer.from('%PDF-1.4 tiny');

  test('image and document blocks; names sanitized, unique, document-N when none', () => {
    const { body, warnings } = build({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image', image: png },
            { type: 'file', data: pdf, mediaType: 'application/pdf', filename: "John's report, 2026.pdf" },
            { type: 'file', data: pdf, mediaType: 'application/pdf' },
            { type: 'file', data: Buffer.from('a,b'), mediaType: 'text/csv', filename: 'data.csv' },
            { type: 'file', data: Buffer.from('a,b'), mediaType: 'text/csv', filename: 'data.csv' },
          ],
        },
      ],
    });
    assert.deepEqual(body.messages[0].content, [
      { text: 'Compare' },
      { image: { format: 'png', source: { bytes: png.toString('base64') } } },
      { document: { format: 'pdf', name: 'John-s report- 2026', source: { bytes: pdf.toString('base64') } } },
      { document: { format: 'pdf', name: 'document-2', source: { bytes: pdf.toString('base64') } } },
      { document: { format: 'csv', name: 'data', source: { bytes: 'YSxi' } } },
      { document: { format: 'csv', name: 'data-2', source: { bytes: 'YSxi' } } },
    ]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /John's report, 2026\.pdf.*John-s report- 2026/);
    assert.match(warnings[1]!, /"data\.csv" is sent as "data-2"/);
  });

  test('images in tool results; what Converse cannot take fails before sending', () => {
    const { body } = build({
      messages: [
        { role: 'user', content: 'Screenshot please' },
        { role: 'assistant', content: [{ type: 'tool-call', id: 'c1', name: 'shot', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', content: [{ type: 'image', image: png }] },
      ],
      tools: [{ name: 'shot', parameters: { type: 'object', properties: {} } }],
    });
    assert.deepEqual(body.messages[2].content[0].toolResult.content, [
      { image: { format: 'png', source: { bytes: png.toString('base64') } } },
    ]);
    assert.throws(
      fails({
        messages: [{ role: 'user', content: [{ type: 'file', data: pdf, mediaType: 'application/pdf' }] }],
      }),
      (error: unknown) =>
        error instanceof LLMUnsupportedError && /a document without text/.test(error.message),
    );
    assert.throws(
      fails({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x' },
              { type: 'file', data: pdf, mediaType: 'audio/wav' },
            ],
          },
        ],
      }),
      (error: unknown) => error instanceof LLMUnsupportedError && /audio\/wav files/.test(error.message),
    );
    assert.throws(
      fails({
        messages: [{ role: 'user', content: [{ type: 'image', image: png, mediaType: 'image/bmp' }] }],
      }),
      (error: unknown) => error instanceof LLMUnsupportedError && /image\/bmp images/.test(error.message),
    );
  });

  test('an https image is downloaded and sent as bytes (Bedrock fetches no URLs)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const seen: string[] = [];
    const api = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk));
      req.on('end', () => {
        seen.push(text);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          '{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"end_turn"}',
        );
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const { adapter, secrets } = resolveBedrock(
      {
        headers: {},
        region: 'us-east-1',
        apiKey: 'test-key-not-real',
        baseURL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      },
      {},
    );
    assert.ok(secrets.length === 1 && adapter.capabilities(CLAUDE_45).imageUrls === false);
    const { LLMClientFactory } = await import('../../client/factory.ts');
    const factory = new LLMClientFactory({ env: {} });
    try {
      const llm = factory.createClient(`bedrock/${CLAUDE_45}`, {
        region: 'us-east-1',
        apiKey: 'test-key-not-real',
        baseURL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      });
      await llm.complete({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What?' },
              { type: 'image', image: `${origin}/cat.png` },
            ],
          },
        ],
      });
      const body = JSON.parse(seen.at(-1)!) as Json;
      assert.deepEqual(body.messages[0].content[1], {
        image: { format: 'png', source: { bytes: png.toString('base64') } },
      });
    } finally {
      await factory.close();
      server.close();
      api.close();
    }
  });
});

describe('structured output, provider options, capabilities', () => {
  test('json-schema → outputConfig.textFormat with the schema as a JSON string, in the constrained dialect', () => {
    const { body, warnings } = build({
      prompt: 'x',
      responseFormat: {
        type: 'json-schema',
        name: 'person',
        description: 'A person',
        schema: z.object({ name: z.string().min(2), age: z.number().int().optional() }),
      },
    });
    const format = body.outputConfig.textFormat;
    assert.equal(format.type, 'json_schema');
    assert.equal(format.structure.jsonSchema.name, 'person');
    assert.equal(format.structure.jsonSchema.description, 'A person');
    assert.equal(typeof format.structure.jsonSchema.schema, 'string');
    const schema = JSON.parse(format.structure.jsonSchema.schema);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['name'], 'optional properties stay optional');
    assert.ok(
      warnings.some((warning) => /minLength/.test(warning)),
      warnings.join('\n'),
    );
  });

  test('strict tools on a model that has them go in the dialect with strict: true; elsewhere a warning', () => {
    const strict = build({ prompt: 'x', tools: [{ ...weather, strict: true }] });
    assert.deepEqual(strict.body.toolConfig.tools[0].toolSpec, {
      name: 'get_weather',
      inputSchema: { json: { ...weather.parameters, additionalProperties: false } },
      strict: true,
    });
    const plain = build({ prompt: 'x', tools: [{ ...weather, strict: true }] }, 'amazon.nova-pro-v1:0');
    assert.equal(plain.body.toolConfig.tools[0].toolSpec.strict, undefined);
    assert.match(plain.warnings[0]!, /no strict tools/);
  });

  test('JSON mode, and a schema on a model without native structured output, fail before sending', () => {
    assert.throws(fails({ prompt: 'x', responseFormat: { type: 'json' } }), /JSON mode without a schema/);
    assert.throws(
      fails(
        { prompt: 'x', responseFormat: { type: 'json-schema', schema: { type: 'object' } } },
        'amazon.nova-pro-v1:0',
      ),
      (error: unknown) =>
        error instanceof LLMUnsupportedError &&
        /generateObject falls back to a forced tool call/.test(error.message),
    );
  });

  test('providerOptions.bedrock only, merged without overwriting what the request defines', () => {
    const { body } = build({
      prompt: 'x',
      reasoning: { effort: 'low' },
      providerOptions: {
        bedrock: {
          additionalModelRequestFields: { top_k: 5 },
          guardrailConfig: { guardrailIdentifier: 'g' },
        },
        anthropic: { top_k: 1 },
      },
    });
    assert.equal(body.additionalModelRequestFields.top_k, 5);
    assert.equal(body.additionalModelRequestFields.thinking.type, 'enabled');
    assert.deepEqual(body.guardrailConfig, { guardrailIdentifier: 'g' });
    const conflicts: CompletionRequest[] = [
      { prompt: 'x', providerOptions: { bedrock: { messages: [] } } },
      { prompt: 'x', providerOptions: { bedrock: { toolConfig: { tools: [] } } } },
      { prompt: 'x', maxTokens: 10, providerOptions: { bedrock: { inferenceConfig: { maxTokens: 20 } } } },
      {
        prompt: 'x',
        reasoning: { effort: 'low' },
        providerOptions: { bedrock: { additionalModelRequestFields: { thinking: { type: 'disabled' } } } },
      },
    ];
    for (const request of conflicts) {
      assert.throws(
        fails(request),
        (error: unknown) =>
          error instanceof LLMBadRequestError && /providerOptions\.bedrock/.test(error.message),
      );
    }
  });

  test('a local token count is an estimate that grows with tools, images and documents', () => {
    const { adapter } = resolveBedrock({ headers: {}, region: 'us-east-1', apiKey: 'test-key-not-real' }, {});
    const count = (request: CompletionRequest) =>
      adapter.countRequestTokensLocally(normalizeRequest(request, CLAUDE_45));
    const text = count({ prompt: 'Describe this' });
    assert.deepEqual([text.exact, text.source], [false, 'estimate']);
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const image = count({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe this' },
            { type: 'image', image: png },
          ],
        },
      ],
    });
    const tools = count({ prompt: 'Describe this', tools: [weather] });
    assert.ok(image.inputTokens >= text.inputTokens + 1000, `${image.inputTokens} vs ${text.inputTokens}`);
    assert.ok(tools.inputTokens > text.inputTokens);
  });

  test('capabilities by family; temperature above 1 is sent as 1', () => {
    assert.deepEqual(bedrockCapabilities(CLAUDE_45), {
      structuredOutput: true,
      forcedToolChoice: true,
      forcedToolChoiceWithReasoning: false,
      imageUrls: false,
      fileUrls: false,
    });
    assert.equal(bedrockCapabilities('global.anthropic.claude-sonnet-4-6').structuredOutput, false);
    assert.equal(bedrockCapabilities('anthropic.claude-opus-4-6-v1').structuredOutput, true);
    assert.equal(bedrockCapabilities('meta.llama3-1-70b-instruct-v1:0').forcedToolChoice, false);
    assert.equal(bedrockCapabilities('us.amazon.nova-2-lite-v1:0').forcedToolChoiceWithReasoning, true);
    const { body, warnings } = build({ prompt: 'x', temperature: 1.5 }, 'amazon.nova-pro-v1:0');
    assert.equal(body.inferenceConfig.temperature, 1);
    assert.match(warnings[0]!, /temperature 1\.5 is sent as 1/);
  });
});
