/**
 * What every stream decoder produces: one frame per protocol message. SSE gives `event`/`data`;
 * NDJSON gives one line as `data`; AWS eventstream gives the `:event-type` (or `exception:<type>`) as
 * `event` and the payload as `data`. Providers interpret frames; decoders only cut bytes into them.
 */
import { LLMInvalidResponseError } from '../spec/errors.ts';

export interface StreamFrame {
  event: string;
  data: string;
  id?: string;
}

export interface FrameDecoder {
  /** Feeds bytes and calls `onFrame` for every frame they complete. */
  push(chunk: Uint8Array, onFrame: (frame: StreamFrame) => void): void;
  /** Flushes what is left at the end of the body; throws a typed error for a truncated frame. */
  end(onFrame: (frame: StreamFrame) => void): void;
}

/** The default `maxEventBytes`: 16 MiB, the largest message AWS eventstream itself allows. */
export const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

export interface FrameDecoderOptions {
  /**
   * Largest frame accepted, in bytes as sent (an SSE event with its field names, an NDJSON line, an
   * eventstream message). A larger one is an `LLMInvalidResponseError`, raised as soon as the limit is
   * passed, before the rest arrives. Default `DEFAULT_MAX_EVENT_BYTES` (16 MiB).
   */
  maxEventBytes?: number;
  /** Named in the errors the decoder throws (the decoder itself knows no provider). */
  provider?: string;
  model?: string;
  requestId?: string;
}

/**
 * The error of a frame over `maxEventBytes`. Not retryable: the same server would send the same frame,
 * and the client stops reading (and releases the connection) instead of buffering it.
 */
export function eventTooLargeError(
  options: FrameDecoderOptions,
  limitBytes: number,
): LLMInvalidResponseError {
  return new LLMInvalidResponseError(
    `${options.provider ?? 'The server'} sent a stream event of more than ${limitBytes} bytes (the \`maxEventBytes\` limit); the stream was stopped. Raise the client option \`maxEventBytes\` to accept larger events.`,
    {
      provider: options.provider,
      model: options.model,
      requestId: options.requestId,
      retryable: false,
    },
  );
}
