/**
 * The rig of the official-SDK tests (`openai-sdk`, `anthropic-sdk`, `pass-through-sdk` and `faults` tests):
 * an emulator, a gateway in front of it with one chat deployment per provider (its id is the provider's
 * name) and one embeddings deployment per provider that has embeddings (`<provider>-embed`), and the official
 * `openai` and `@anthropic-ai/sdk` clients pointed at the gateway, unchanged but for `maxRetries: 0` (what
 * the gateway answers is what the test sees) and `logLevel: 'off'` (no SDK console noise when a fault makes
 * it fail to parse). With `tap`, an `UpstreamTap` stands between the gateway and
 * the emulator and keeps the provider's bytes. Everything is closed when the test (or file) ends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ClientOptions } from '../../client/options.ts';
import {
  type Emulator,
  type EmulatorOptions,
  emulatorClientOptions,
  startEmulator,
} from '../../emulator/index.ts';
import type { JsonSchema } from '../../spec/tools.ts';
import { PROVIDERS as ALL_PROVIDERS, type ProviderName } from '../../spec/types.ts';
import { gatewayConfigFrom } from '../config.ts';
import { type Gateway, startGateway } from '../server.ts';
import { startUpstreamTap, type UpstreamTap } from './sdk-upstream-tap.ts';

/** Not a real key: the gateway's master key in these tests. */
export const MASTER_KEY = 'master-key-for-the-sdk-tests-not-real';

/** Every provider, one chat deployment each (the spec's list). */
export const PROVIDERS: readonly ProviderName[] = ALL_PROVIDERS;

/** Each provider's chat model: ones whose capabilities include native structured output. */
export const CHAT_MODELS: Readonly<Record<ProviderName, string>> = {
  openai: 'openai/gpt-4o-mini',
  azure: 'azure/gpt-4o-mini-deployment',
  'openai-compatible': 'openai-compatible/qwen3-8b',
  anthropic: 'anthropic/claude-sonnet-4-6',
  gemini: 'gemini/gemini-2.5-flash',
  bedrock: 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ollama: 'ollama/qwen3',
};

/** Each provider's embeddings model (Anthropic has no embeddings API). */
export const EMBEDDING_MODELS: Readonly<Partial<Record<ProviderName, string>>> = {
  openai: 'openai/text-embedding-3-small',
  azure: 'azure/text-embedding-3-small',
  'openai-compatible': 'openai-compatible/nomic-embed-text',
  gemini: 'gemini/gemini-embedding-001',
  bedrock: 'bedrock/amazon.titan-embed-text-v2:0',
  ollama: 'ollama/nomic-embed-text',
};

/** A tool's parameters with a string, an enum and a bounded integer, all required. */
export const WEATHER_PARAMETERS: JsonSchema = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 1 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};

/** A structured-output schema, closed as strict modes want it. */
export const PERSON_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
  required: ['name', 'age'],
  additionalProperties: false,
};

/** Providers an OpenAI client reaches by pass-through; the others are translated. */
export const OPENAI_FAMILY: ReadonlySet<ProviderName> = new Set(['openai', 'azure', 'openai-compatible']);

/** Whatever registers cleanup: a test's context, or `sdkGatewayForFile`'s hooks. */
export interface Cleanup {
  after(fn: () => Promise<void>): void;
}

/**
 * A rig a whole file shares: started in the file's `before` hook (its fields are set then) and closed in
 * its `after` hook.
 */
export function sdkGatewayForFile(options: RigOptions = {}): SdkGateway {
  const steps: Array<() => Promise<void>> = [];
  const rig = {} as SdkGateway;
  before(async () => {
    Object.assign(rig, await startSdkGateway({ after: (fn) => steps.push(fn) }, options));
  });
  after(async () => {
    for (const step of steps.reverse()) await step();
  });
  return rig;
}

export interface SdkGateway {
  emulator: Emulator;
  gateway: Gateway;
  /** Between the gateway and the emulator when the rig was asked for one. */
  tap: UpstreamTap | undefined;
  /** The official clients, with the master key. */
  openai: OpenAI;
  anthropic: Anthropic;
  openaiWith(key: string, options?: Partial<ConstructorParameters<typeof OpenAI>[0]>): OpenAI;
  anthropicWith(key: string, options?: Partial<ConstructorParameters<typeof Anthropic>[0]>): Anthropic;
  /** A virtual key made through the admin API. */
  createKey(fields: Record<string, unknown>): Promise<{ id: string; key: string }>;
}

export interface RigOptions {
  /** The emulator's options (a `fault` for every request, timings). */
  emulator?: EmulatorOptions;
  /** Puts an `UpstreamTap` between the gateway and the emulator. */
  tap?: boolean;
  /** More deployments and groups, or router settings, given the URL the deployments reach the provider at. */
  config?: (upstreamUrl: string) => Record<string, unknown>;
  /** Client options every deployment gets (short timeouts for the fault tests). */
  defaults?: ClientOptions;
}

/** A deployment of `provider` at `upstreamUrl` (the emulator or a tap), with `options` over the defaults. */
export function deployment(
  upstreamUrl: string,
  id: string,
  provider: ProviderName,
  options: ClientOptions = {},
  model = CHAT_MODELS[provider],
): Record<string, unknown> {
  return { id, model, options: { ...emulatorClientOptions(upstreamUrl, provider), ...options } };
}

export async function startSdkGateway(cleanup: Cleanup, options: RigOptions = {}): Promise<SdkGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-gw-sdk-'));
  const emulator = await startEmulator(options.emulator);
  const tap = options.tap ? await startUpstreamTap(emulator.url) : undefined;
  const upstream = tap?.url ?? emulator.url;
  const extra = options.config?.(upstream) ?? {};
  const document = {
    masterKey: MASTER_KEY,
    state: { sqlite: join(dir, 'gateway.sqlite') },
    ...extra,
    deployments: [
      ...PROVIDERS.map((provider) => deployment(upstream, provider, provider)),
      ...PROVIDERS.flatMap((provider) => {
        const model = EMBEDDING_MODELS[provider];
        return model ? [deployment(upstream, `${provider}-embed`, provider, {}, model)] : [];
      }),
      ...((extra.deployments as unknown[] | undefined) ?? []),
    ],
    groups: { chat: ['openai', 'anthropic'], ...(extra.groups as object | undefined) },
    defaults: { retry: { initialDelayMs: 1, maxDelayMs: 5 }, ...options.defaults },
  };
  let gateway: Gateway;
  try {
    gateway = await startGateway({ config: gatewayConfigFrom(document, {}), port: 0 });
  } catch (error) {
    await tap?.close();
    await emulator.close();
    throw error;
  }
  cleanup.after(async () => {
    await gateway.close();
    await tap?.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const openaiWith: SdkGateway['openaiWith'] = (key, more) =>
    new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0, logLevel: 'off', ...more });
  const anthropicWith: SdkGateway['anthropicWith'] = (key, more) =>
    new Anthropic({ apiKey: key, baseURL: gateway.url, maxRetries: 0, logLevel: 'off', ...more });
  return {
    emulator,
    gateway,
    tap,
    openai: openaiWith(MASTER_KEY),
    anthropic: anthropicWith(MASTER_KEY),
    openaiWith,
    anthropicWith,
    async createKey(fields) {
      const response = await fetch(`${gateway.url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(fields),
      });
      assert.equal(response.status, 201, await response.clone().text());
      return (await response.json()) as { id: string; key: string };
    },
  };
}

/** The chat requests the emulator received (every provider's chat paths), oldest first. */
export function chatRequests(emulator: Emulator): Emulator['requests'] {
  return emulator.requests.filter((request) =>
    /\/chat\/completions|\/v1\/messages(?:\?|$)|:(?:stream)?generateContent|\/converse|\/api\/chat/i.test(
      request.path,
    ),
  );
}

export interface SentRequest {
  body: unknown;
  headers: Headers;
}

/** A `fetch` for an official client that keeps each request it sends (to compare with the upstream's). */
export function recordingFetch(sent: SentRequest[]): typeof fetch {
  return async (input, init) => {
    if (typeof init?.body === 'string')
      sent.push({ body: JSON.parse(init.body), headers: new Headers(init.headers) });
    return fetch(input, init);
  };
}
