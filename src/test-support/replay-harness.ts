/**
 * The loop every provider's fixture tests share: serve a reply on loopback, run one call through a fresh
 * client, close it, and hand back the result, the stream's events or the typed error.
 */
import assert from 'node:assert/strict';
import type { LLMClient } from '../client/llm-client.ts';
import { isLLMError, type LLMError } from '../spec/errors.ts';
import type { CompletionRequest, CompletionResult, FinishEvent, StreamEvent } from '../spec/types.ts';
import { type ReplayServer, type Reply, startReplayServer } from './replay-server.ts';

export interface StreamOutcome {
  text: string;
  events: StreamEvent[];
  finish: FinishEvent;
}

export class ReplayHarness {
  readonly server: ReplayServer;
  next: Reply = { body: '{}' };

  private constructor(server: ReplayServer) {
    this.server = server;
  }

  static async start(): Promise<ReplayHarness> {
    let harness: ReplayHarness | undefined;
    const server = await startReplayServer(() => harness!.next);
    harness = new ReplayHarness(server);
    return harness;
  }

  get url(): string {
    return this.server.url;
  }

  async complete(
    client: LLMClient,
    reply: Reply,
    request: CompletionRequest = { prompt: 'fixture' },
  ): Promise<CompletionResult> {
    this.next = reply;
    try {
      return await client.complete(request);
    } finally {
      await client.close();
    }
  }

  async stream(
    client: LLMClient,
    reply: Reply,
    request: CompletionRequest = { prompt: 'fixture' },
  ): Promise<StreamOutcome> {
    this.next = { headers: { 'content-type': 'text/event-stream' }, ...reply };
    const events: StreamEvent[] = [];
    try {
      for await (const event of client.stream(request)) events.push(event);
    } finally {
      await client.close();
    }
    const finish = events.at(-1);
    assert.equal(finish?.type, 'finish', 'a stream ends with a finish event');
    assert.equal(events.filter((e) => e.type === 'finish').length, 1, 'exactly one finish event');
    const text = events.map((e) => (e.type === 'text-delta' ? e.text : '')).join('');
    return { text, events, finish: finish as FinishEvent };
  }

  async error(client: LLMClient, reply: Reply): Promise<LLMError> {
    const error = await this.complete(client, reply).then(
      () => assert.fail('expected the call to fail'),
      (caught: unknown) => caught,
    );
    assert.ok(isLLMError(error), `expected an LLMError, got ${String(error)}`);
    return error;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** Records which fixture files a test file used, for its "every fixture is covered" check. */
export function coverage(): { use: (file: string) => string; covered: Set<string> } {
  const covered = new Set<string>();
  return {
    covered,
    use: (file: string) => {
      covered.add(file);
      return file;
    },
  };
}
