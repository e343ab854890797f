/**
 * How an answer goes back to the client: passed through as the provider sent it (a deployment of the
 * client's own protocol), or streamed from the conversation model's events in the client's protocol. Either
 * way a failure after the stream began is an in-band error event, never a clean end, and only a whole answer
 * is offered to the response cache.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../middleware/logging.ts';
import type { Router } from '../router/router.ts';
import type { CompletionRequest, StreamEvent } from '../spec/types.ts';
import { AnthropicEventWriter } from './anthropic-answer.ts';
import type { CachedAnswer } from './cache.ts';
import { anthropicErrorBody, GatewayError, inBandError, openAIErrorBody, toGatewayError } from './errors.ts';
import { answered, type Exchange, type Protocol } from './exchange.ts';
import { SseResponse } from './http.ts';
import { OpenAIChunkWriter } from './openai-wire.ts';
import { priced, SseTap, upstreamBodyError, usageOf } from './pass-through.ts';
import { isRecord, type Json } from './validate-body.ts';

/** What answering needs from the service. */
export interface AnswerContext {
  router: Router;
  upstreamMaxBytes: number;
  /** The response cache's largest entry (when a cache is on). */
  cacheMaxEntryBytes: number;
  logger: Logger | undefined;
}

/** The body as it came, to a deployment of the same protocol; the answer as the provider sent it. */
export async function passThroughAnswer(
  context: AnswerContext,
  exchange: Exchange,
  res: ServerResponse,
  protocol: Protocol,
  body: Json,
  stream: boolean,
  includeUsage: boolean,
  store?: (answer: CachedAnswer) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const onClose = () => controller.abort();
  res.once('close', onClose);
  try {
    const forwarded = context.router
      .forward({
        model: exchange.model,
        protocol: protocol === 'openai' ? 'openai-chat' : 'anthropic-messages',
        body,
        stream,
        headers: exchange.protocolHeaders,
        signal: controller.signal,
      })
      .catch((error: unknown) => {
        // The client left while the provider was generating: the provider bills it.
        if (controller.signal.aborted) exchange.begun = true;
        throw error;
      });
    const { response, deployment } = await forwarded;
    exchange.deployment = deployment.id;
    exchange.pricedAs = { provider: deployment.provider, model: deployment.model };
    const headers: Record<string, string> = { 'x-request-id': exchange.id };
    if (response.requestId) headers['x-upstream-request-id'] = response.requestId;
    if (!stream) {
      // The library read the whole answer inside the attempt (a broken or non-JSON one fell back).
      const whole = response.whole!;
      const bytes = Buffer.from(whole.text);
      if (bytes.length > context.upstreamMaxBytes) {
        throw new GatewayError(
          502,
          'upstream_error',
          `The provider's response is larger than ${context.upstreamMaxBytes} bytes (upstreamMaxBytes)`,
        );
      }
      const parsed = whole.json;
      const usage = usageOf(protocol, parsed);
      exchange.begun = true;
      if (usage) {
        answered(
          exchange,
          priced(usage, deployment.provider, deployment.model, isRecord(parsed) ? parsed.model : undefined),
          deployment.id,
        );
        exchange.complete = true;
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': bytes.length,
        ...headers,
      });
      res.end(bytes);
      if (store && usage) await store({ kind: 'json', body: whole.text });
      return;
    }
    const sse = new SseResponse(res, headers);
    exchange.status = 200;
    exchange.begun = true;
    if (store) sse.record(context.cacheMaxEntryBytes);
    const tap = new SseTap(protocol, includeUsage, context.upstreamMaxBytes);
    let complete = false;
    try {
      for await (const chunk of response.body) {
        if (sse.closed) break;
        await sse.write(tap.push(chunk as Uint8Array));
      }
      await sse.write(tap.end());
      // A stream that stops before its end marker, unless with an error of its own, is not a whole answer.
      if (!sse.closed && !tap.finished && !tap.failed) {
        throw new GatewayError(
          502,
          'upstream_error',
          `${deployment.provider}'s stream ended before its answer did (no ${protocol === 'openai' ? '[DONE]' : 'message_stop'})`,
        );
      }
      complete = !sse.closed && tap.finished;
    } catch (error) {
      // The provider's stream broke after it began: an in-band error, never a clean end.
      const failure = upstreamBodyError(error, deployment.provider);
      exchange.status = failure.status;
      await sse.write(inBandError(protocol, failure));
    } finally {
      response.release();
      sse.end();
      exchange.outputChars = tap.outputChars;
    }
    if (tap.usage)
      answered(exchange, priced(tap.usage, deployment.provider, deployment.model, tap.model), deployment.id);
    // The usage is final once the stream ended whole; cut short, it is charged an estimate (chargeCutShort).
    exchange.complete = tap.finished && tap.usage !== undefined;
    // Only a whole answer is kept: one that ended with its usage, neither cut short nor broken.
    const recorded = sse.recorded();
    if (store && complete && tap.usage && recorded) await store({ kind: 'sse', body: recorded });
  } finally {
    res.off('close', onClose);
  }
}

/** Streams the answer; an error before the first event is an ordinary error response, after it an in-band event. */
export async function streamAnswer(
  context: AnswerContext,
  exchange: Exchange,
  res: ServerResponse,
  protocol: Protocol,
  request: CompletionRequest,
  includeUsage: boolean,
  store?: (answer: CachedAnswer) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  // Listening before the first event: a client that leaves while a reasoning model thinks stops it too.
  const onClose = () => {
    exchange.begun = true;
    controller.abort();
  };
  res.once('close', onClose);
  const events = context.router.stream({ ...request, signal: controller.signal });
  let sse: SseResponse | undefined;
  let writer: OpenAIChunkWriter | AnthropicEventWriter | undefined;
  try {
    // The first event decides between an error response and a 200 stream.
    const first = await events.next();
    const id = protocol === 'openai' ? `chatcmpl-${exchange.id}` : `msg_${exchange.id}`;
    writer =
      protocol === 'openai'
        ? new OpenAIChunkWriter(id, request.model!, includeUsage)
        : new AnthropicEventWriter(id, request.model!);
    sse = new SseResponse(res, { 'x-request-id': exchange.id });
    exchange.status = 200;
    exchange.begun = true;
    exchange.outputChars = 0;
    if (store) sse.record(context.cacheMaxEntryBytes);
    let finished = false;
    for (let step = first; !step.done; step = await events.next()) {
      const event: StreamEvent = step.value;
      if (sse.closed) break;
      exchange.outputChars += outputCharsOf(event);
      if (event.type === 'finish') {
        finished = true;
        answered(exchange, event.usage, event.route?.deployment);
        exchange.complete = true;
      }
      await sse.write(writer.write(event));
    }
    const recorded = sse.recorded();
    if (store && finished && recorded && !sse.closed) await store({ kind: 'sse', body: recorded });
  } catch (error) {
    // Before the first event: an ordinary error response (by the caller). After it: an in-band event.
    if (!sse || !writer) throw error;
    const failure = toGatewayError(error);
    exchange.status = failure.status;
    context.logger?.warn({ requestId: exchange.id, error: failure.message }, 'stream failed after it began');
    await sse.write(
      writer.error(protocol === 'openai' ? openAIErrorBody(failure) : anthropicErrorBody(failure)),
    );
  } finally {
    res.off('close', onClose);
    await events.return(undefined).catch(() => {});
    sse?.end();
  }
}

/** The output an event carries to the client: text, reasoning and tool-call arguments. */
function outputCharsOf(event: StreamEvent): number {
  switch (event.type) {
    case 'text-delta':
    case 'reasoning-delta':
      return event.text.length;
    case 'tool-call-delta':
      return event.argumentsDelta.length;
    default:
      return 0;
  }
}
