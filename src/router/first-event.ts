/**
 * A stream commits to its deployment at its first event: until then a failure may move to another
 * deployment. `openStream` waits for that event, no longer than the TTFT limit when there is one; a late
 * first event is a timeout that cancels the attempt.
 */
import { LLMTimeoutError } from '../spec/errors.ts';
import type { StreamEvent } from '../spec/types.ts';
import type { AttemptContext } from './attempt.ts';

export interface OpenedStream<E = StreamEvent> {
  iterator: AsyncGenerator<E, void, undefined>;
  first: IteratorResult<E, void>;
}

export async function openStream<E = StreamEvent>(
  stream: AsyncGenerator<E, void, undefined>,
  ttftMs: number | undefined,
  context: AttemptContext,
): Promise<OpenedStream<E>> {
  const first = stream.next();
  if (ttftMs === undefined) return { iterator: stream, first: await first };
  const { deployment } = context;
  const late = new LLMTimeoutError(
    `No first event from deployment '${deployment.id}' within ttftTimeoutMs (${ttftMs} ms)`,
    { provider: deployment.provider, model: deployment.model, retryable: true },
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late), ttftMs);
  });
  try {
    return { iterator: stream, first: await Promise.race([first, deadline]) };
  } catch (error) {
    if (error === late) {
      // The request is still pending: cancel it, and let its rejection go unheard.
      first.catch(() => {});
      context.controller?.abort(late);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
