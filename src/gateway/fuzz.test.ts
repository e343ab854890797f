/**
 * Bad input never crashes the gateway. `llmf serve` runs in a child process (so that a crash is seen as one)
 * and fast-check sends it, over real HTTP, bodies that are malformed, truncated, oversized and type-confused
 * for every endpoint, with broken headers and framing from a raw socket. Every one is answered with a 4xx
 * in its protocol's error shape, never a 5xx, never a hang; the process stays up, its memory after a GC
 * stays flat, no prototype is polluted; and valid-but-odd bodies the providers accept are answered 2xx.
 *
 * `GATEWAY_FUZZ_SCALE=10` multiplies the number of cases for a longer local run; `GATEWAY_FUZZ_SEED=<n>`
 * replays a run (the seed of a failing run is in its failure message).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  authHeaders,
  check,
  contentTypes,
  ENDPOINTS,
  type Endpoint,
  isErrorShape,
  type Keys,
  outgoing,
} from './test-support/fuzz-endpoints.ts';
import { BODY_LIMIT_BYTES, framingCases } from './test-support/fuzz-framing.ts';
import { type FuzzGateway, MASTER_KEY, startFuzzGateway } from './test-support/fuzz-gateway.ts';
import { huge, malformed } from './test-support/fuzz-malformed.ts';
import { regressions } from './test-support/fuzz-regressions.ts';

const SCALE = Math.max(1, Number(process.env.GATEWAY_FUZZ_SCALE ?? 1));
const SEED = process.env.GATEWAY_FUZZ_SEED === undefined ? undefined : Number(process.env.GATEWAY_FUZZ_SEED);
/** Malformed bodies per endpoint, valid-but-odd ones per endpoint, huge ones per endpoint. */
const MALFORMED_RUNS = 300 * SCALE;
const VALID_RUNS = 40 * SCALE;
const HUGE_RUNS = 4;
const HUGE_STRING_BYTES = 1024 * 1024;
const LEAK_BAIT_MODELS = 2_000;
const LEAK_BAIT_PROMPTS = 16;

/**
 * The memory bounds: after a GC, the heap may grow by 12 MB and the resident set by 48 MB over the measured
 * run. A gateway that kept each request's body, or a metric series per model name it was asked for, or the
 * emulator's log of every request, breaks them: the run sends more than twice the RSS bound in bodies. (The
 * allocator keeps what a burst took, so the warm-up sends the largest answers a case can draw first.)
 */
const HEAP_GROWTH_BOUND_BYTES = 12 * 1024 * 1024;
const RSS_GROWTH_BOUND_BYTES = 48 * 1024 * 1024;

const runs = (numRuns: number) => ({
  numRuns,
  endOnFailure: true,
  ...(SEED === undefined ? {} : { seed: SEED }),
});

/** Sends `numRuns` malformed bodies of `endpoint`, with any key and content type, whole or chunked. */
async function fuzzMalformed(gateway: FuzzGateway, keys: Keys, endpoint: Endpoint, numRuns: number) {
  let sentBytes = 0;
  await fc.assert(
    fc.asyncProperty(
      malformed(endpoint.valid, endpoint.required),
      authHeaders(keys),
      contentTypes,
      fc.boolean(),
      async (bad, auth, contentType, chunked) => {
        const request = outgoing(endpoint.path, { ...auth, ...contentType }, bad.body, chunked);
        sentBytes += bad.body.length;
        await check(gateway, bad.kind, request, bad.expect);
      },
    ),
    runs(numRuns),
  );
  return sentBytes;
}

/** Sends `numRuns` valid-but-odd bodies of `endpoint` with the master key: each must be answered 2xx. */
async function fuzzValid(gateway: FuzzGateway, endpoint: Endpoint, numRuns: number) {
  let sentBytes = 0;
  await fc.assert(
    fc.asyncProperty(endpoint.valid, fc.boolean(), async (body, chunked) => {
      const bytes = Buffer.from(JSON.stringify(body));
      sentBytes += bytes.length;
      const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
      await check(gateway, 'valid', outgoing(endpoint.path, headers, bytes, chunked), 'success');
    }),
    runs(numRuns),
  );
  return sentBytes;
}

/** Valid bodies with a string of a megabyte somewhere (under the limit): answered, neither 5xx nor hung. */
async function fuzzHuge(gateway: FuzzGateway, endpoint: Endpoint, numRuns: number) {
  let sentBytes = 0;
  await fc.assert(
    fc.asyncProperty(huge(endpoint.valid, HUGE_STRING_BYTES), async (big) => {
      sentBytes += big.body.length;
      const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
      await check(gateway, big.kind, outgoing(endpoint.path, headers, big.body, false), big.expect);
    }),
    runs(numRuns),
  );
  return sentBytes;
}

/**
 * Requests that would each leave something behind in a leaky gateway, many enough that what they left breaks
 * the heap bound: model names it does not serve, each a metric series if one were kept per name asked for
 * (4 kB names, 2 000 of them); prompts of a megabyte that reach the provider, kept if anything logged them.
 */
async function sendLeakBait(gateway: FuzzGateway): Promise<number> {
  let sentBytes = 0;
  const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
  for (let i = 0; i < LEAK_BAIT_MODELS; i++) {
    const endpoint = ENDPOINTS[i % 4]!;
    const model = `${'no-such-model-'.repeat(300)}${i}`;
    const body = Buffer.from(
      JSON.stringify({ model, input: 'hi', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    );
    sentBytes += body.length;
    const answer = await check(
      gateway,
      `unknown model ${i}`,
      outgoing(endpoint.path, headers, body, false),
      'client-error',
    );
    assert.equal(answer.status, 404, answer.text);
  }
  const prompt = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(HUGE_STRING_BYTES / 27));
  for (let i = 0; i < LEAK_BAIT_PROMPTS; i++) {
    const [path, model] = i % 2 ? ['/v1/messages', 'anthropic'] : ['/v1/chat/completions', 'openai'];
    const body = Buffer.from(
      JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: `${i} ${prompt}` }] }),
    );
    sentBytes += body.length;
    await check(gateway, `a prompt of a megabyte (${i})`, outgoing(path, headers, body, false), 'success');
  }
  return sentBytes;
}

/**
 * The largest answers a case can draw: a forced tool call whose one required field is named with a megabyte,
 * streamed back as some 300,000 events, from each chat endpoint to a deployment of each protocol. Sent in
 * the warm-up, they take the allocator to the high-water mark a random case may reach later.
 */
async function sendHugeAnswers(gateway: FuzzGateway): Promise<void> {
  const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
  const name = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(HUGE_STRING_BYTES / 27));
  const parameters = { type: 'object', properties: {}, required: [name] };
  const messages = [{ role: 'user', content: 'fill it in' }];
  for (const model of ['openai', 'anthropic', 'bedrock']) {
    const openai = {
      model,
      stream: true,
      messages,
      tool_choice: 'required',
      tools: [{ type: 'function', function: { name: 'fill', parameters } }],
    };
    const anthropic = {
      model,
      stream: true,
      max_tokens: 64,
      messages,
      tool_choice: { type: 'any' },
      tools: [{ name: 'fill', input_schema: parameters }],
    };
    for (const [path, body] of [
      ['/v1/chat/completions', openai],
      ['/v1/messages', anthropic],
    ] as const) {
      const bytes = Buffer.from(JSON.stringify(body));
      await check(
        gateway,
        `a megabyte of tool arguments from ${model}`,
        outgoing(path, headers, bytes, false),
        'success',
      );
    }
  }
}

/** Every framing case over a raw socket, and a body past the limit from an ordinary keep-alive client. */
async function sendFraming(gateway: FuzzGateway): Promise<number> {
  let sentBytes = 0;
  for (const framing of framingCases()) {
    const raw = await gateway.sendRaw(framing.pieces, { halfClose: framing.halfClose, abort: framing.abort });
    sentBytes += framing.pieces.reduce((total, piece) => total + Buffer.byteLength(piece), 0);
    const explain = `case: ${framing.name}\nreceived: ${raw.text.slice(0, 400)} ${raw.error ?? ''}\nlog: ${gateway.stderr().slice(-1_000)}`;
    assert.ok(gateway.alive(), `the gateway died\n${explain}`);
    if (!framing.expect) continue;
    const { status, protocol } = framing.expect;
    assert.ok(raw.answer, `no HTTP answer\n${explain}`);
    const got = raw.answer.status;
    if (status === '2xx') assert.ok(got >= 200 && got < 300, explain);
    else if (status === '4xx') assert.ok(got >= 400 && got < 500, explain);
    else assert.equal(got, status, explain);
    if (got >= 400)
      assert.ok(isErrorShape(protocol, raw.answer.text), `not ${protocol}'s error shape\n${explain}`);
  }
  for (const endpoint of ENDPOINTS) {
    const body = Buffer.alloc(BODY_LIMIT_BYTES + 1, 0x20);
    const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
    const answer = await check(
      gateway,
      'a body past the limit',
      outgoing(endpoint.path, headers, body, false),
      'client-error',
    );
    assert.equal(answer.status, 413);
    sentBytes += body.length;
  }
  return sentBytes;
}

test('bad input never crashes the gateway, never gets a 5xx, never hangs, and leaves its memory flat', async (t) => {
  const gateway = await startFuzzGateway(t);
  const keys: Keys = {
    open: await gateway.createKey({ name: 'fuzz-open', rpm: 1_000_000, tpm: 2 ** 40, budgetUsd: 1_000_000 }),
    narrow: await gateway.createKey({ name: 'fuzz-narrow', models: ['openai'] }),
  };

  await t.test('regressions, each named after what broke', async (t) => {
    for (const regression of regressions()) {
      await t.test(regression.name, async () => {
        const answer = regression.raw
          ? (await gateway.sendRaw(regression.raw)).answer
          : await gateway.send(regression.request!);
        assert.ok(gateway.alive(), 'the gateway is still running');
        assert.ok(answer, 'an HTTP answer came back');
        assert.equal(answer.status, regression.status, answer.text.slice(0, 500));
        if (answer.status >= 400)
          assert.ok(
            isErrorShape(regression.protocol, answer.text),
            `${regression.protocol}'s error shape: ${answer.text}`,
          );
      });
    }
  });

  // A first pass over every endpoint and kind of case loads what loads once (tokenizers, prepared statements,
  // metric series, pools) and takes the allocator to its high-water mark with the largest bodies: what it
  // leaves is the baseline the measured run is compared with.
  for (const endpoint of ENDPOINTS) {
    await fuzzValid(gateway, endpoint, 10);
    await fuzzMalformed(gateway, keys, endpoint, 60);
    await fuzzHuge(gateway, endpoint, 1);
  }
  await sendFraming(gateway);
  await sendLeakBait(gateway);
  await sendHugeAnswers(gateway);
  const baseline = await gateway.memory();
  let sentBytes = 0;

  await t.test('valid-but-odd bodies the providers accept are answered 2xx', async () => {
    for (const endpoint of ENDPOINTS) sentBytes += await fuzzValid(gateway, endpoint, VALID_RUNS);
  });

  for (const endpoint of ENDPOINTS) {
    await t.test(`malformed ${endpoint.name} bodies get a 4xx in ${endpoint.protocol}'s shape`, async () => {
      sentBytes += await fuzzMalformed(gateway, keys, endpoint, MALFORMED_RUNS);
      sentBytes += await fuzzHuge(gateway, endpoint, HUGE_RUNS);
    });
  }

  await t.test(
    'broken framing and headers get a 4xx in the route protocol’s shape, or a closed socket',
    async () => {
      sentBytes += await sendFraming(gateway);
    },
  );

  await t.test('unknown model names and megabyte prompts are answered and forgotten', async () => {
    sentBytes += await sendLeakBait(gateway);
  });

  await t.test('the process is up, its memory flat, and no prototype polluted', async (t) => {
    assert.ok(gateway.alive(), 'the gateway process is running');
    const after = await gateway.memory();
    const heapGrowth = after.heapUsedBytes - baseline.heapUsedBytes;
    const rssGrowth = after.rssBytes - baseline.rssBytes;
    t.diagnostic(
      `sent ${mb(sentBytes)} after the baseline; heap ${mb(baseline.heapUsedBytes)} → ${mb(after.heapUsedBytes)} (of ${mb(baseline.heapTotalBytes)} → ${mb(after.heapTotalBytes)}), external ${mb(baseline.externalBytes)} → ${mb(after.externalBytes)}, RSS ${mb(baseline.rssBytes)} → ${mb(after.rssBytes)}`,
    );
    assert.deepEqual(after.pollutedKeys, [], 'no built-in prototype gained a property');
    assert.ok(
      sentBytes > 2 * RSS_GROWTH_BOUND_BYTES,
      'the run sends enough that keeping its bodies breaks the bound',
    );
    assert.ok(heapGrowth < HEAP_GROWTH_BOUND_BYTES, `the heap grew by ${mb(heapGrowth)}`);
    assert.ok(rssGrowth < RSS_GROWTH_BOUND_BYTES, `the resident set grew by ${mb(rssGrowth)}`);
  });
});

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
