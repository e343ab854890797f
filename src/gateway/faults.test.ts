/**
 * Every fault the emulator injects, behind the gateway, as the official clients see it: for every provider,
 * both SDKs, whole and streamed, the right error class for its status; a failure after a stream began as an
 * in-band error event in the client's protocol (the SDK raises), never a clean end — a stalled or truncated
 * upstream stream included; and a transparent fallback when the model is a group with a healthy second
 * deployment, unless output had already reached the client.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAULT_KINDS, type FaultKind } from '../emulator/index.ts';
import type { ProviderName } from '../spec/types.ts';
import { deployment, PROVIDERS, type SdkGateway, startSdkGateway } from './test-support/sdk-gateway.ts';
import {
  describeOutcome,
  type Outcome,
  outcomeOf,
  passesThrough,
  SDK_CLASSES,
  type Sdk,
} from './test-support/sdk-outcomes.ts';

/** Short timeouts and one retry, so that every fault ends within a second or two. */
const FAST = { maxRetries: 1, timeoutMs: 300, streamIdleTimeoutMs: 250 };

type Expected =
  | { status: number }
  | { inBand: RegExp }
  | { answer: 'refusal' | 'normal' }
  | { raised: string };

/** What a client must see when every attempt at `provider` meets `fault` (no deployment to fall back to). */
function expectedFor(fault: FaultKind, provider: ProviderName, sdk: Sdk, stream: boolean): Expected {
  switch (fault) {
    case 'rate-limit':
      return { status: 429 };
    case 'server-error':
    case 'reset':
      return { status: 502 };
    case 'unavailable':
      return { status: 503 };
    case 'overloaded':
      // Anthropic's clients hear a provider's overload as Anthropic says it (529); Bedrock's is a 503.
      return { status: sdk === 'anthropic' && provider !== 'bedrock' ? 529 : 503 };
    case 'hang':
      return { status: 504 };
    case 'stall':
      return stream ? { inBand: /No data from/ } : { status: 504 };
    case 'malformed':
      // Passed through, the provider's broken event reaches the client as it came: the SDK's own parse error.
      return stream && passesThrough(sdk, provider) ? { raised: 'SyntaxError' } : { status: 502 };
    case 'stream-error':
      return stream ? { inBand: /./ } : { status: 502 };
    case 'content-filter':
      // Azure refuses with a 400; Ollama has no filter (an empty answer); the others answer with a refusal.
      return provider === 'azure'
        ? { status: 400 }
        : { answer: provider === 'ollama' ? 'normal' : 'refusal' };
  }
}

const REFUSAL: Record<Sdk, string> = { openai: 'content_filter', anthropic: 'refusal' };
const NORMAL: Record<Sdk, string> = { openai: 'stop', anthropic: 'end_turn' };

/** Why `outcome` is not `expected`, or undefined when it is. */
function mismatch(outcome: Outcome, expected: Expected, sdk: Sdk): string | undefined {
  const got = describeOutcome(outcome);
  if ('status' in expected) {
    if (outcome.kind !== 'status' || outcome.status !== expected.status)
      return `expected ${expected.status}, got ${got}`;
    const errorClass = SDK_CLASSES[expected.status]![sdk];
    if (!(outcome.error instanceof errorClass)) return `expected ${errorClass.name}, got ${got}`;
    if (expected.status === 429 && !(Number(outcome.retryAfter) >= 1)) return `no Retry-After: ${got}`;
    return undefined;
  }
  if ('inBand' in expected)
    return outcome.kind === 'in-band' && expected.inBand.test(outcome.message)
      ? undefined
      : `expected an in-band error matching ${expected.inBand}, got ${got}`;
  if ('raised' in expected)
    return outcome.kind === 'raised' && outcome.name === expected.raised
      ? undefined
      : `expected the SDK to raise ${expected.raised}, got ${got}`;
  const finish = expected.answer === 'refusal' ? REFUSAL[sdk] : NORMAL[sdk];
  return outcome.kind === 'answer' && outcome.finish === finish
    ? undefined
    : `expected ${finish}, got ${got}`;
}

/** Runs every case at once and fails with the list of those that went wrong. */
async function expectAll(
  cases: ReadonlyArray<{ name: string; run: () => Promise<Outcome>; expected: Expected; sdk: Sdk }>,
): Promise<void> {
  const outcomes = await Promise.all(cases.map((one) => one.run()));
  const wrong = cases.flatMap((one, index) => {
    const why = mismatch(outcomes[index]!, one.expected, one.sdk);
    return why ? [`${one.name}: ${why}`] : [];
  });
  assert.deepEqual(wrong, [], `${wrong.length} of ${cases.length} cases went wrong`);
}

const SDKS: readonly Sdk[] = ['openai', 'anthropic'];
const client = (rig: SdkGateway, sdk: Sdk) => (sdk === 'openai' ? rig.openai : rig.anthropic);

describe('every emulator fault reaches both SDKs as the right error, from every provider', () => {
  for (const fault of FAULT_KINDS) {
    test(fault, async (t) => {
      const rig = await startSdkGateway(t, {
        emulator: { fault, retryAfterMs: 10 },
        config: () => ({ cooldown: false }),
        defaults: FAST,
      });
      await expectAll(
        PROVIDERS.flatMap((provider) =>
          SDKS.flatMap((sdk) =>
            [false, true].map((stream) => ({
              name: `${sdk} SDK → ${provider} ${stream ? 'streamed' : 'whole'}`,
              run: () => outcomeOf(client(rig, sdk), provider, stream),
              expected: expectedFor(fault, provider, sdk, stream),
              sdk,
            })),
          ),
        ),
      );
    });
  }
});

test('an upstream stream cut short and ended cleanly is an error for the client, never a clean end', async (t) => {
  const rig = await startSdkGateway(t, { tap: true, defaults: FAST });
  rig.tap!.cutStreamsAfter = 4;
  const cases = PROVIDERS.flatMap((provider) =>
    SDKS.map((sdk) => ({ provider, sdk, run: () => outcomeOf(client(rig, sdk), provider, true) })),
  );
  const outcomes = await Promise.all(cases.map((one) => one.run()));
  const wrong = cases.flatMap(({ provider, sdk }, index) => {
    const outcome = outcomes[index]!;
    // Once output reached the client, only an in-band error can say so; before it, a 502 after retries.
    const fine =
      outcome.kind === 'in-band' ||
      (outcome.kind === 'status' && outcome.status === 502 && !passesThrough(sdk, provider));
    return fine ? [] : [`${sdk} SDK → ${provider}: ${describeOutcome(outcome)}`];
  });
  assert.deepEqual(wrong, []);
  assert.ok(
    rig.tap!.exchanges.every((exchange) => exchange.relayed.length < exchange.body.length),
    'every stream was cut',
  );
});

describe('a group with a healthy second deployment falls back transparently', () => {
  /** Groups whose first deployment fails: reached by pass-through for one SDK or translated for both. */
  const GROUPS: ReadonlyArray<{ first: ProviderName; second: string }> = [
    { first: 'openai', second: 'openai-compatible' },
    { first: 'anthropic', second: 'anthropic' },
    { first: 'gemini', second: 'bedrock' },
  ];
  const groupName = (fault: FaultKind, first: ProviderName) => `${fault}-then-healthy-${first}`;

  /** When output had reached the client before the fault, it cannot be taken back: no fallback then. */
  function expectedFallback(fault: FaultKind, first: ProviderName, sdk: Sdk, stream: boolean): Expected {
    if (fault === 'content-filter') return { answer: 'refusal' };
    if (stream && (fault === 'stall' || fault === 'stream-error'))
      return expectedFor(fault, first, sdk, stream);
    if (stream && fault === 'malformed' && passesThrough(sdk, first)) return { raised: 'SyntaxError' };
    return { answer: 'normal' };
  }

  /** Whole answers passed through are read after the provider's response started: past the router's fallback. */
  const afterResponseStart = (fault: FaultKind, first: ProviderName, sdk: Sdk, stream: boolean) =>
    !stream && (fault === 'stall' || fault === 'malformed') && passesThrough(sdk, first);

  let rig: SdkGateway;
  const cases = (known: boolean) =>
    FAULT_KINDS.flatMap((fault) =>
      GROUPS.flatMap(({ first }) =>
        SDKS.flatMap((sdk) =>
          [false, true].flatMap((stream) =>
            afterResponseStart(fault, first, sdk, stream) === known
              ? [
                  {
                    name: `${fault}: ${sdk} SDK → ${first}, then healthy, ${stream ? 'streamed' : 'whole'}`,
                    run: () => outcomeOf(client(rig, sdk), groupName(fault, first), stream),
                    expected: expectedFallback(fault, first, sdk, stream),
                    sdk,
                  },
                ]
              : [],
          ),
        ),
      ),
    );

  test('every fault kind, both SDKs, passed through and translated, whole and streamed', async (t) => {
    rig = await startSdkGateway(t, {
      defaults: FAST,
      config: (upstream) => ({
        deployments: FAULT_KINDS.flatMap((fault) =>
          GROUPS.map(({ first }) =>
            deployment(upstream, `${groupName(fault, first)}-first`, first, {
              headers: { 'x-emulator-fault': fault },
            }),
          ),
        ),
        groups: Object.fromEntries(
          FAULT_KINDS.flatMap((fault) =>
            GROUPS.map(({ first, second }) => [
              groupName(fault, first),
              [`${groupName(fault, first)}-first`, second],
            ]),
          ),
        ),
      }),
    });
    await expectAll(cases(false));
    await t.test('a whole answer passed through that stalls or is not JSON after its response started', () =>
      expectAll(cases(true)),
    );
  });
});
