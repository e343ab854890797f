/**
 * What the Bedrock request tests share: a loopback server answering a recorded Converse body, a client
 * pointed at it, the body of the last request, and the error of a request refused before sending.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { CompletionRequest, CompletionResult } from '../spec/types.ts';
import { fixtureText } from './fixtures.ts';
import { ReplayHarness } from './replay-harness.ts';

export const CLAUDE_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

export type ConverseBody = Record<string, unknown> & {
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
};

export interface ConverseHarness {
  readonly replay: ReplayHarness;
  client(model?: string): LLMClient;
  /** The body of the last request the server saw. */
  sentBody(): ConverseBody;
  /** Runs `request` against a plain recorded answer: the body sent and the result. */
  send(request: CompletionRequest, model?: string): Promise<{ body: ConverseBody; result: CompletionResult }>;
  /** The error `request` fails with, asserting that nothing was sent. */
  refused(request: CompletionRequest, model?: string): Promise<unknown>;
}

/** Registers `before`/`after` hooks in the calling test file and hands back the harness. */
export function converseHarness(): ConverseHarness {
  let replay: ReplayHarness | undefined;
  const factory = new LLMClientFactory({ env: {} });
  before(async () => {
    replay = await ReplayHarness.start();
  });
  after(async () => {
    await factory.close();
    await replay?.close();
  });
  const harness: ConverseHarness = {
    get replay() {
      return replay!;
    },
    client: (model = CLAUDE_MODEL) =>
      factory.createClient(`bedrock/${model}`, {
        region: 'us-east-1',
        baseURL: replay!.url,
        apiKey: 'test-key-not-real',
        maxRetries: 0,
      }),
    sentBody: () => JSON.parse(replay!.server.requests.at(-1)!.body) as ConverseBody,
    async send(request, model) {
      const result = await replay!.complete(
        harness.client(model),
        { body: fixtureText('bedrock', 'converse.nonstream.text.json') },
        request,
      );
      return { body: harness.sentBody(), result };
    },
    async refused(request, model) {
      const before = replay!.server.requests.length;
      const llm = harness.client(model);
      const error = await llm.complete(request).then(
        () => assert.fail('expected the request to be refused'),
        (caught: unknown) => caught,
      );
      await llm.close();
      assert.equal(replay!.server.requests.length, before, 'nothing was sent');
      return error;
    },
  };
  return harness;
}
