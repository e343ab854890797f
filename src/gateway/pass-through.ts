/**
 * The pass-through path: a client speaks the protocol of every deployment its model leads to, so its body
 * goes to the chosen deployment untranslated (but for the model and credentials) and the answer comes back
 * as the provider sent it. The gateway only reads what it must: the usage, to charge the key. A stream is
 * re-framed event by event from the provider's own SSE (no event is changed; the usage chunk the gateway
 * asked OpenAI for is dropped when the client did not ask for it).
 */
import { SseDecoder } from '../http/sse.ts';
import { costOf } from '../pricing/pricing.ts';
import { isRecord } from '../spec/json.ts';
import type { ProviderName, Usage } from '../spec/types.ts';
import { GatewayError, toGatewayError } from './errors.ts';

export type PassThroughProtocol = 'openai' | 'anthropic';

/** Usage as the protocol's body reports it. */
export function usageOf(protocol: PassThroughProtocol, body: unknown): Usage | undefined {
  if (!isRecord(body) || !isRecord(body.usage)) return undefined;
  const usage = body.usage;
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  if (protocol === 'openai') {
    const input = number(usage.prompt_tokens);
    const output = number(usage.completion_tokens);
    return {
      inputTokens: input,
      outputTokens: output,
      totalTokens: number(usage.total_tokens) || input + output,
    };
  }
  const input =
    number(usage.input_tokens) +
    number(usage.cache_read_input_tokens) +
    number(usage.cache_creation_input_tokens);
  const output = number(usage.output_tokens);
  return { inputTokens: input, outputTokens: output, totalTokens: input + output };
}

/** Adds `costUsd` as the deployment bills it (undefined when its price is unknown). */
export function priced(usage: Usage, provider: ProviderName, model: string, answered?: unknown): Usage {
  const cost =
    (typeof answered === 'string' && answered ? costOf(provider, answered, usage) : undefined) ??
    costOf(provider, model, usage);
  if (cost !== undefined) usage.costUsd = cost;
  return usage;
}

/**
 * What reading a passed-through body threw → the client's error. The body is undici's, unread by the
 * library, so its failures are undici's own: silence past the deployment's `streamIdleTimeoutMs` is a 504,
 * a connection that broke a 502 (not the 500 of a gateway bug).
 */
export function upstreamBodyError(error: unknown, provider: string): GatewayError {
  // Ours, or the client going away (the gateway aborts the upstream then): as any other failure.
  if (!(error instanceof Error) || error instanceof GatewayError || error.name === 'AbortError')
    return toGatewayError(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError(
      504,
      'timeout_error',
      `No data from ${provider} within the deployment's streamIdleTimeoutMs: its answer stopped midway`,
    );
  }
  return new GatewayError(
    502,
    'upstream_error',
    `The connection to ${provider} failed midway through its answer${typeof code === 'string' ? ` (${code})` : ''}`,
  );
}

/**
 * Re-frames a provider's SSE for the client and watches it for usage. `push` returns the text to write for
 * a chunk of bytes; `usage` is what the stream reported so far.
 */
export class SseTap {
  readonly #decoder = new SseDecoder();
  readonly #protocol: PassThroughProtocol;
  readonly #keepUsageChunk: boolean;
  #out = '';
  #bytes = 0;
  readonly #limitBytes: number;
  usage: Usage | undefined;
  /** The model the provider says answered, when an event names it. */
  model: string | undefined;
  /** The stream's end marker came (`[DONE]`, `message_stop`): the answer is whole. */
  finished = false;
  /** The provider sent an error event of its own (it reaches the client as it came). */
  failed = false;

  constructor(protocol: PassThroughProtocol, keepUsageChunk: boolean, limitBytes: number) {
    this.#protocol = protocol;
    this.#keepUsageChunk = keepUsageChunk;
    this.#limitBytes = limitBytes;
  }

  push(chunk: Uint8Array): string {
    this.#bytes += chunk.byteLength;
    if (this.#bytes > this.#limitBytes) {
      throw new GatewayError(
        502,
        'upstream_error',
        `The provider's stream is larger than ${this.#limitBytes} bytes (upstreamMaxBytes)`,
      );
    }
    this.#out = '';
    this.#decoder.push(chunk, this.#onFrame);
    return this.#out;
  }

  end(): string {
    this.#out = '';
    this.#decoder.end(this.#onFrame);
    return this.#out;
  }

  readonly #onFrame = (frame: { event: string; data: string }): void => {
    if (this.#protocol === 'openai') {
      if (frame.data === '[DONE]') this.finished = true;
      else if (ERROR_EVENT.test(frame.data)) this.failed = true;
      else if (frame.data.includes('"usage"')) {
        const chunk = safeParse(frame.data);
        const usage = usageOf('openai', chunk);
        if (usage) this.usage = usage;
        if (isRecord(chunk) && typeof chunk.model === 'string') this.model = chunk.model;
        // The usage-only chunk the gateway asked for: the client gets it only if it asked too.
        if (
          usage &&
          isRecord(chunk) &&
          Array.isArray(chunk.choices) &&
          chunk.choices.length === 0 &&
          !this.#keepUsageChunk
        )
          return;
      }
      this.#out += `data: ${frame.data}\n\n`;
      return;
    }
    if (frame.event === 'message_stop') this.finished = true;
    else if (frame.event === 'error') this.failed = true;
    else if (frame.event === 'message_start' || frame.event === 'message_delta') {
      const event = safeParse(frame.data);
      const carrier = isRecord(event) ? (frame.event === 'message_start' ? event.message : event) : undefined;
      const usage = usageOf('anthropic', carrier);
      if (usage) {
        const before = this.usage;
        // message_start carries the input, message_delta the output so far.
        this.usage =
          frame.event === 'message_start' || !before
            ? usage
            : {
                inputTokens: usage.inputTokens || before.inputTokens,
                outputTokens: usage.outputTokens,
                totalTokens: (usage.inputTokens || before.inputTokens) + usage.outputTokens,
              };
      }
      if (frame.event === 'message_start' && isRecord(carrier) && typeof carrier.model === 'string')
        this.model = carrier.model;
    }
    this.#out += `${frame.event === 'message' ? '' : `event: ${frame.event}\n`}data: ${frame.data}\n\n`;
  };
}

/** OpenAI's in-band error: an event whose data is `{"error": …}`. */
const ERROR_EVENT = /^\{\s*"error"/;

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
