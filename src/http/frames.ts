/**
 * What every stream decoder produces: one frame per protocol message. SSE gives `event`/`data`;
 * NDJSON gives one line as `data`; AWS eventstream gives the `:event-type` (or `exception:<type>`) as
 * `event` and the payload as `data`. Providers interpret frames; decoders only cut bytes into them.
 */
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
