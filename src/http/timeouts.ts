/**
 * Default attempt timeouts: how long an attempt waits, once its request is written, for the response to
 * start (its headers). Used when neither the client nor the request sets `timeoutMs`.
 *
 * A non-streaming completion sends no headers until the whole answer is generated, so its wait must
 * outlast a long generation: 10 minutes, the official SDKs' default, and more when `maxTokens` allows an
 * answer longer than the pace Anthropic's SDK assumes (128,000 tokens an hour) fits in 10 minutes, up to
 * an hour. Where that SDK refuses such a request, this one waits: such a timeout is not retried (see
 * `http/retry.ts`), so a longer wait never pays for a second answer.
 *
 * Streams, embeddings and token counts start their response at once, so a minute without headers means
 * the request is stuck, and retrying it is cheap.
 */

/** Streams, embeddings, token counts: until the response starts. */
export const RESPONSE_START_TIMEOUT_MS = 60_000;
/** A non-streaming completion, whatever its `maxTokens`. */
export const GENERATION_TIMEOUT_MS = 600_000;
/** The most a non-streaming completion's default grows to. */
export const MAX_GENERATION_TIMEOUT_MS = 3_600_000;
/** Anthropic's SDK: "expected time = 60 minutes × max_tokens / 128,000". */
const GENERATED_TOKENS_PER_HOUR = 128_000;

/** The default wait for a non-streaming completion that may generate up to `maxTokens` tokens. */
export function generationTimeoutMs(maxTokens: number | undefined): number {
  if (maxTokens === undefined) return GENERATION_TIMEOUT_MS;
  const expectedMs = Math.ceil((maxTokens * 3_600_000) / GENERATED_TOKENS_PER_HOUR);
  return Math.min(MAX_GENERATION_TIMEOUT_MS, Math.max(GENERATION_TIMEOUT_MS, expectedMs));
}
