/**
 * Fallbacks against emulators, one per deployment: every error class that moves a call on does so,
 * streamed or not; those that must not, do not; a stream never changes deployment once output has reached
 * the caller; context windows and content filters move only where the call can succeed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FaultKind } from '../emulator/index.ts';
import type { LLMErrorCode } from '../spec/errors.ts';
import type { FinishEvent } from '../spec/types.ts';
import {
  anthropicAt,
  azureAt,
  chats,
  drain,
  emulators,
  openaiAt,
  rejection,
  routerFor,
  streamFailure,
  until,
} from './test-support/rig.ts';

const MOVES_ON: ReadonlyArray<[FaultKind, LLMErrorCode]> = [
  ['rate-limit', 'rate_limit'],
  ['server-error', 'server_error'],
  ['unavailable', 'server_error'],
  ['overloaded', 'server_error'],
  ['hang', 'timeout'],
  ['reset', 'connection'],
  ['malformed', 'invalid_response'],
];

const finishOf = (events: readonly { type: string }[]) => events.at(-1) as FinishEvent;

describe('router: fallback for each error class', () => {
  for (const [fault, code] of [...MOVES_ON, ['stall', 'timeout'], ['stream-error', 'server_error']] as Array<
    [FaultKind, LLMErrorCode]
  >) {
    test(`complete: ${fault} on the first deployment → the second answers (${code})`, async (t) => {
      const [a, b] = await emulators(t, { fault }, {});
      const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
      const result = await router.complete({ prompt: `fallback ${fault}` });
      assert.equal(result.route?.deployment, 'b');
      assert.deepEqual(
        result.route?.attempts.map((attempt) => [attempt.deployment, attempt.error?.code]),
        [
          ['a', code],
          ['b', undefined],
        ],
      );
      // Another deployment could take the call: the failing one was tried once, not through its retries.
      assert.equal(chats(a!), 1);
      assert.equal(chats(b!), 1);
    });
  }

  for (const [fault, code] of MOVES_ON) {
    test(`stream: ${fault} before any output → the second deployment streams (${code})`, async (t) => {
      const [a, b] = await emulators(t, { fault }, {});
      const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
      const events = await drain(router.stream({ prompt: `stream fallback ${fault}` }));
      assert.ok(events.some((event) => event.type === 'text-delta'));
      const route = finishOf(events).route;
      assert.equal(route?.deployment, 'b');
      assert.equal(route?.attempts[0]?.error?.code, code);
      assert.equal(chats(a!), 1);
    });
  }

  test('across providers: OpenAI down, Anthropic answers, streamed', async (t) => {
    const [a, b] = await emulators(t, { fault: 'unavailable' }, {});
    const router = routerFor(t, {
      deployments: [openaiAt('openai', a!), anthropicAt('anthropic', b!)],
      groups: { chat: ['openai', 'anthropic'] },
    });
    const events = await drain(router.stream({ model: 'chat', prompt: 'cross-provider' }));
    const finish = finishOf(events);
    assert.equal(finish.route?.deployment, 'anthropic');
    assert.match(finish.model ?? '', /claude/);
  });

  test('the last deployment left retries under its own policy', async (t) => {
    const [a, b] = await emulators(t, { fault: 'server-error' }, { fault: 'server-error:1' });
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
    const result = await router.complete({ prompt: 'last one retries' });
    assert.equal(result.route?.deployment, 'b');
    assert.equal(chats(b!), 2, 'b failed once and its client retried');
  });

  test('every deployment failing: the last error, typed, with the whole route', async (t) => {
    const [a, b] = await emulators(t, { fault: 'server-error' }, { fault: 'reset' });
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
    const error = await rejection(router.complete({ prompt: 'all down' }));
    assert.equal(error.code, 'connection');
    assert.equal(error.route?.deployment, 'b');
    assert.deepEqual(
      error.route?.attempts.map((attempt) => attempt.error?.code),
      ['server_error', 'connection'],
    );
  });
});

describe('router: errors that do not fall back', () => {
  test('a bad request fails at once, on the first deployment only', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
    const error = await rejection(router.complete({ prompt: 'too hot', temperature: 5 }));
    assert.equal(error.code, 'bad_request');
    assert.equal(error.route?.attempts.length, 1);
    assert.equal(chats(b!), 0);
  });

  test('an authentication error is not hidden by a fallback, and cools its deployment down', async (t) => {
    const [a, b] = await emulators(t, { apiKeys: ['another-key-not-real'] }, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
    const error = await rejection(router.complete({ prompt: 'wrong key' }));
    assert.equal(error.code, 'authentication');
    assert.equal(chats(b!), 0);
    const [health] = router.health();
    assert.equal(health?.coolingCode, 'authentication');
    // The next call skips the cooling deployment.
    const result = await router.complete({ prompt: 'after the 401' });
    assert.equal(result.route?.deployment, 'b');
    assert.equal(chats(a!), 1);
  });

  test('a model the deployment does not serve (404) cools it down too', async (t) => {
    const [a, b] = await emulators(t, { models: ['claude-opus-4-1'] }, {});
    const router = routerFor(t, { deployments: [anthropicAt('a', a!), openaiAt('b', b!)] });
    assert.equal((await rejection(router.complete({ prompt: 'no such model' }))).code, 'not_found');
    assert.equal((await router.complete({ prompt: 'then b' })).route?.deployment, 'b');
  });

  test('a fallback list can say otherwise: `fallbacks: [authentication]` moves on', async (t) => {
    const [a, b] = await emulators(t, { apiKeys: ['another-key-not-real'] }, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      fallbacks: ['authentication'],
    });
    assert.equal((await router.complete({ prompt: 'opted in' })).route?.deployment, 'b');
  });

  test('the caller’s abort is never a fallback', async (t) => {
    const [a, b] = await emulators(t, { latencyMs: 2_000 }, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
    const controller = new AbortController();
    const pending = router.complete({ prompt: 'cancelled', signal: controller.signal });
    await until(() => chats(a!) > 0, 'the first deployment receives the call');
    controller.abort();
    assert.equal((await rejection(pending)).code, 'aborted');
    assert.equal(chats(b!), 0);
  });

  test('an unknown model names what the router knows', async (t) => {
    const [a] = await emulators(t, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!)], groups: { chat: ['a'] } });
    const error = await rejection(router.complete({ model: 'gpt-5', prompt: 'x' }));
    assert.equal(error.code, 'not_found');
    assert.match(error.message, /"gpt-5".*known: a, chat/);
    assert.throws(() => router.stream({ model: 'gpt-5', prompt: 'x' }), /known: a, chat/);
  });
});

describe('router: streams never change deployment after output', () => {
  for (const [fault, code] of [
    ['stream-error', 'server_error'],
    ['stall', 'timeout'],
  ] as const) {
    test(`${fault} after the first tokens: a typed ${code} error, no other deployment asked`, async (t) => {
      const [a, b] = await emulators(t, { fault }, {});
      const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)] });
      const { events, error } = await streamFailure(router.stream({ prompt: `mid-stream ${fault}` }));
      assert.ok(events.some((event) => event.type === 'text-delta' && event.text.length > 0));
      assert.ok(!events.some((event) => event.type === 'finish'), 'never a clean end');
      assert.equal(error.code, code);
      assert.equal(error.route?.deployment, 'a');
      assert.equal(chats(b!), 0);
    });
  }

  test('no first event within ttftTimeoutMs counts as a timeout and moves on', async (t) => {
    const [a, b] = await emulators(t, { timeToFirstTokenMs: 5_000 }, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      ttftTimeoutMs: 200,
    });
    const events = await drain(router.stream({ prompt: 'slow first token' }));
    const route = finishOf(events).route;
    assert.equal(route?.deployment, 'b');
    assert.equal(route?.attempts[0]?.error?.code, 'timeout');
    assert.match(route?.attempts[0]?.error?.message ?? '', /ttftTimeoutMs/);
  });

  test('breaking out of a routed stream releases the deployment', async (t) => {
    const [a] = await emulators(t, { tokensPerSecond: 50 });
    const router = routerFor(t, { deployments: [openaiAt('a', a!)] });
    for await (const event of router.stream({ prompt: 'a long answer, please, with many words in it' })) {
      if (event.type === 'text-delta') break;
    }
    assert.equal(router.health()[0]?.inFlight, 0);
  });
});

describe('router: context windows and content filters', () => {
  const LONG = 'word '.repeat(400);

  test('a deployment whose window the request does not fit is skipped before sending', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, {
      deployments: [
        openaiAt('small', a!, { contextWindow: 100 }),
        openaiAt('large', b!, { contextWindow: 100_000 }),
      ],
    });
    assert.equal((await router.complete({ prompt: 'short' })).route?.deployment, 'small');
    const result = await router.complete({ prompt: LONG });
    assert.deepEqual(
      result.route?.attempts.map((attempt) => attempt.deployment),
      ['large'],
    );
    assert.equal(chats(a!), 1, 'only the short request reached the small deployment');
  });

  test('a context-window error moves only to a larger window', async (t) => {
    const [a, same, b] = await emulators(t, { contextWindow: 50 }, {}, {});
    const router = routerFor(t, {
      deployments: [
        openaiAt('a', a!, { contextWindow: 4_000 }),
        openaiAt('same-size', same!, { contextWindow: 4_000 }),
        openaiAt('larger', b!, { contextWindow: 128_000 }),
      ],
    });
    const result = await router.complete({ prompt: LONG });
    assert.deepEqual(
      result.route?.attempts.map((attempt) => [attempt.deployment, attempt.error?.code]),
      [
        ['a', 'context_window_exceeded'],
        ['larger', undefined],
      ],
    );
    assert.equal(chats(same!), 0);
  });

  test('a request no deployment can fit fails before anything is sent', async (t) => {
    const [a] = await emulators(t, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!, { contextWindow: 100 })] });
    const error = await rejection(router.complete({ prompt: LONG }));
    assert.equal(error.code, 'context_window_exceeded');
    assert.match(error.message, /largest context window is 100 tokens/);
    assert.equal(chats(a!), 0);
  });

  test('a content filter moves to another provider, not to the same one elsewhere', async (t) => {
    const [filtered, sameProvider, other] = await emulators(t, { fault: 'content-filter' }, {}, {});
    const router = routerFor(t, {
      deployments: [
        azureAt('azure-eu', filtered!),
        azureAt('azure-us', sameProvider!),
        openaiAt('openai', other!),
      ],
    });
    const result = await router.complete({ prompt: 'filtered' });
    assert.deepEqual(
      result.route?.attempts.map((attempt) => [attempt.deployment, attempt.error?.code]),
      [
        ['azure-eu', 'content_filter'],
        ['openai', undefined],
      ],
    );
    assert.equal(chats(sameProvider!), 0);
  });
});

describe('router: requests pass through untouched but for the model', () => {
  test('every field reaches the deployment; `model` becomes the deployment’s own', async (t) => {
    const [a] = await emulators(t, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!, { model: 'openai/gpt-4o' })],
      groups: { chat: ['a'] },
    });
    const request = {
      model: 'chat',
      messages: [{ role: 'user' as const, content: 'pass me through' }],
      system: 'Be brief.',
      temperature: 0.3,
      maxTokens: 40,
      stop: ['\n\n'],
      seed: 7,
      headers: { 'x-team': 'search' },
      providerOptions: { openai: { user: 'user-1' } },
    };
    const result = await router.complete(request);
    assert.equal(request.model, 'chat', 'the caller’s request is not changed');
    assert.equal(result.route?.deployment, 'a');
    const sent = a!.requests.at(-1)!;
    const body = sent.body as Record<string, unknown>;
    assert.equal(body.model, 'gpt-4o');
    assert.equal(body.temperature, 0.3);
    assert.equal(body.max_completion_tokens, 40);
    assert.deepEqual(body.stop, ['\n\n']);
    assert.equal(body.seed, 7);
    assert.equal(body.user, 'user-1');
    assert.equal((body.messages as Array<{ content: string }>)[0]?.content, 'Be brief.');
    assert.equal(sent.headers['x-team'], 'search');
  });

  test('generateCompletion and countRequestTokens work as on a client', async (t) => {
    const [a] = await emulators(t, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!)] });
    assert.match(await router.generateCompletion('Hello there'), /Hello there/);
    const counted = await router.countRequestTokens({ prompt: 'Hello there' });
    assert.equal(counted.exact, true);
    assert.ok(counted.inputTokens > 0);
    assert.equal(router.countTokens('Hello there'), 2);
  });
});
