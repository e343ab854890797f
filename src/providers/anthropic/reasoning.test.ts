/**
 * Thinking per Claude generation, on the body we send: budgets where the model takes them (added to
 * max_tokens, at least 1024), adaptive thinking with `output_config.effort` where it has that, thinking
 * that cannot be turned off, the sampling fields and forced tool choices thinking rules out — and the
 * capabilities read from model names that structured output and downloads depend on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import { LLMUnsupportedError } from '../../spec/errors.ts';
import type { CompletionRequest, CompletionResult } from '../../spec/types.ts';
import { fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';
import { anthropicCapabilities, claudeModel } from './capabilities.ts';

const MESSAGE = fixtureText('anthropic', 'messages.nonstream.text.claude-sonnet-4-5.json');
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model: string) =>
  factory.createClient(`anthropic/${model}`, {
    apiKey: 'test-anthropic-reasoning-key',
    baseURL: harness.url,
    maxRetries: 0,
  });

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

async function send(model: string, request: Partial<CompletionRequest>) {
  const result: CompletionResult = await harness.complete(
    client(model),
    { body: MESSAGE },
    { prompt: 'x', ...request },
  );
  const body = JSON.parse(harness.server.requests.at(-1)!.body) as Record<string, unknown>;
  const sent = {
    thinking: body.thinking,
    effort: (body.output_config as { effort?: string } | undefined)?.effort,
    max_tokens: body.max_tokens,
  };
  return { sent, body, warnings: (result.warnings ?? []).map((warning) => warning.message).join('\n') };
}

const weather = {
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
};

describe('reasoning → thinking, per model generation', () => {
  test('a budget goes out as enabled thinking, added to max_tokens (which must exceed it); below 1024 it is raised', async () => {
    assert.deepEqual(
      (await send('claude-sonnet-4-5', { reasoning: { budgetTokens: 3000 }, maxTokens: 500 })).sent,
      {
        thinking: { type: 'enabled', budget_tokens: 3000 },
        effort: undefined,
        max_tokens: 3500,
      },
    );
    const small = await send('claude-haiku-4-5', { reasoning: { budgetTokens: 100 } });
    assert.deepEqual(small.sent.thinking, { type: 'enabled', budget_tokens: 1024 });
    assert.equal(small.sent.max_tokens, 4096 + 1024);
    assert.match(small.warnings, /budgetTokens 100 was raised to 1024/);
  });

  test('effort on a budget-only model is a budget; on 4.6 and later, adaptive thinking with output_config.effort', async () => {
    assert.deepEqual((await send('claude-3-7-sonnet-20250219', { reasoning: { effort: 'medium' } })).sent, {
      thinking: { type: 'enabled', budget_tokens: 8192 },
      effort: undefined,
      max_tokens: 4096 + 8192,
    });
    assert.deepEqual((await send('claude-sonnet-4-6', { reasoning: { effort: 'high' } })).sent, {
      thinking: { type: 'adaptive' },
      effort: 'high',
      max_tokens: 16_000,
    });
    const xhigh = await send('claude-opus-4-6', { reasoning: { effort: 'xhigh' }, maxTokens: 30_000 });
    assert.deepEqual(xhigh.sent, { thinking: { type: 'adaptive' }, effort: 'max', max_tokens: 30_000 });
    assert.match(xhigh.warnings, /'xhigh' was sent as 'max'/);
    assert.equal((await send('claude-opus-4-7', { reasoning: { effort: 'xhigh' } })).sent.effort, 'xhigh');
    const minimal = await send('claude-opus-5', { reasoning: { effort: 'minimal' } });
    assert.equal(minimal.sent.effort, 'low');
    assert.match(minimal.warnings, /'minimal' was sent as 'low'/);
  });

  test('a budget on a model that rejects budgets becomes adaptive thinking, said in a warning', async () => {
    const result = await send('claude-opus-4-7', { reasoning: { budgetTokens: 4000 } });
    assert.deepEqual(result.sent, { thinking: { type: 'adaptive' }, effort: undefined, max_tokens: 16_000 });
    assert.match(result.warnings, /claude-opus-4-7 takes no thinking budget/);
  });

  test("reasoning off: nothing on models that think only when asked, disabled on Opus 5, effort low where it can't be off", async () => {
    assert.deepEqual((await send('claude-sonnet-4-6', { reasoning: { effort: 'none' } })).sent, {
      thinking: undefined,
      effort: undefined,
      max_tokens: 4096,
    });
    assert.deepEqual((await send('claude-opus-5', { reasoning: { effort: 'none' } })).sent.thinking, {
      type: 'disabled',
    });
    const always = await send('claude-opus-5-5', { reasoning: { budgetTokens: 0 }, temperature: 0.2 });
    assert.deepEqual(always.sent, { thinking: undefined, effort: 'low', max_tokens: 16_000 });
    assert.match(always.warnings, /claude-opus-5-5 always thinks/);
    assert.equal(always.body.temperature, undefined, 'it thinks, so temperature cannot be sent');
  });

  test('while thinking, temperature other than 1 and top_p below 0.95 are not sent (with warnings); 1 and 0.95 are', async () => {
    const dropped = await send('claude-sonnet-4-5', {
      reasoning: { budgetTokens: 2048 },
      temperature: 0.7,
      topP: 0.5,
    });
    assert.equal(dropped.body.temperature, undefined);
    assert.equal(dropped.body.top_p, undefined);
    assert.match(dropped.warnings, /temperature 0\.7 was not sent: the API takes only 1 while thinking/);
    assert.match(dropped.warnings, /topP 0\.5 was not sent/);
    const kept = await send('claude-sonnet-4-5', {
      reasoning: { budgetTokens: 2048 },
      temperature: 1,
      topP: 0.95,
    });
    assert.equal(kept.body.temperature, 1);
    assert.equal(kept.body.top_p, 0.95);
    const plain = await send('claude-sonnet-4-5', { temperature: 0.7 });
    assert.equal(plain.body.temperature, 0.7, 'untouched without thinking');
  });

  test('a forced tool choice with thinking is refused before sending; Opus 5 is told not to think for one', async () => {
    for (const [model, request] of [
      ['claude-sonnet-4-5', { reasoning: { budgetTokens: 2048 }, toolChoice: 'required' }],
      ['claude-opus-5-5', { toolChoice: { type: 'tool', name: 'get_weather' } }],
    ] as const) {
      const before = harness.server.requests.length;
      const c = client(model);
      const error = await c
        .complete({ prompt: 'x', tools: [weather], ...request })
        .catch((caught: unknown) => caught);
      await c.close();
      assert.ok(error instanceof LLMUnsupportedError, String(error));
      assert.match(
        error.message,
        new RegExp(`^anthropic model ${model} does not support a forced tool choice`),
      );
      assert.equal(harness.server.requests.length, before);
    }
    const opus5 = await send('claude-opus-5', { tools: [weather], toolChoice: 'required' });
    assert.deepEqual(opus5.sent.thinking, { type: 'disabled' });
    assert.deepEqual(opus5.body.tool_choice, { type: 'any' });
  });

  test('reasoning on a model without extended thinking is refused before sending', async () => {
    const c = client('claude-3-5-haiku-latest');
    const error = await c
      .complete({ prompt: 'x', reasoning: { effort: 'low' } })
      .catch((caught: unknown) => caught);
    await c.close();
    assert.ok(error instanceof LLMUnsupportedError);
    assert.match(error.message, /claude-3-5-haiku-latest does not support reasoning \(extended thinking\)/);
  });

  test("a name it does not know gets the caller's settings as they are", async () => {
    assert.deepEqual((await send('my-proxy-alias', { reasoning: { budgetTokens: 2000 } })).sent.thinking, {
      type: 'enabled',
      budget_tokens: 2000,
    });
    assert.deepEqual((await send('my-proxy-alias', { reasoning: { effort: 'low' } })).sent, {
      thinking: { type: 'adaptive' },
      effort: 'low',
      max_tokens: 16_000,
    });
  });
});

describe('capabilities from model names', () => {
  test('generations, dated snapshots and other platforms’ ids', () => {
    const table: Array<[string, string, boolean, boolean]> = [
      // model, thinking, structured output, forced tool choice
      ['claude-3-opus-20240229', 'none', false, true],
      ['claude-3-5-sonnet-latest', 'none', false, true],
      ['claude-3-7-sonnet-20250219', 'budget', false, true],
      ['claude-opus-4-20250514', 'budget', false, true],
      ['claude-opus-4-1', 'budget', false, true],
      ['claude-haiku-4-5-20251001', 'budget', true, true],
      ['claude-sonnet-4-5', 'budget', true, true],
      ['claude-sonnet-4-6', 'both', true, true],
      ['claude-opus-4-7', 'adaptive', true, true],
      ['claude-opus-4-8', 'adaptive', true, true],
      ['claude-opus-5', 'adaptive', true, true],
      ['claude-sonnet-5', 'adaptive', true, true],
      ['claude-opus-5-5', 'always', true, false],
      ['claude-fable-5-1', 'always', true, false],
      ['claude-mythos-preview', 'always', true, false],
      ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'budget', true, true],
      ['claude-opus-4-5@20251101', 'budget', true, true],
      ['glm-4.6', 'unknown', false, true],
    ];
    for (const [model, thinking, structured, forced] of table) {
      const capabilities = anthropicCapabilities(model);
      assert.deepEqual(
        [claudeModel(model).thinking, capabilities.structuredOutput, capabilities.forcedToolChoice],
        [thinking, structured, forced],
        model,
      );
      assert.equal(capabilities.forcedToolChoiceWithReasoning, false);
      assert.equal(
        capabilities.imageUrls && capabilities.fileUrls,
        true,
        'the API fetches https images and PDFs',
      );
    }
    assert.equal(claudeModel('claude-opus-4-5').effort, true);
    assert.equal(claudeModel('claude-sonnet-4-5').effort, false);
    assert.equal(claudeModel('claude-opus-5').thinksByDefault, true);
    assert.equal(claudeModel('claude-opus-4-8').thinksByDefault, false);
  });
});
