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
import { anthropicErrorBody, GatewayError, openAIErrorBody, toGatewayError } from './errors.ts';
import { answered, type Exchange, ledgerEntry, type Protocol } from './exchange.ts';
import { SseResponse } from './http.ts';
import { OpenAIChunkWriter } from './openai-wire.ts';
import { priced, SseTap, upstreamBodyError, usageOf } from './pass-through.ts';
import type { LedgerEntry } from './state/types.ts';
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
): Promise<LedgerEntry | undefined> {
  const controller = new AbortController();
  const onClose = () => controller.abort();
  res.once('close', onClose);
  try {
    const { response, deployment } = await context.router.forward({
      model: exchange.model,
      protocol: protocol === 'openai' ? 'openai-chat' : 'anthropic-messages',
      body,
      stream,
      headers: exchange.protocolHeaders,
      signal: controller.signal,
    });
    exchange.deployment = deployment.id;
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
      if (usage)
        answered(
          exchange,
          priced(usage, deployment.provider, deployment.model, isRecord(parsed) ? parsed.model : undefined),
          deployment.id,
        );
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': bytes.length,
        ...headers,
      });
      res.end(bytes);
      if (store && usage) await store({ kind: 'json', body: whole.text });
      return ledgerEntry(exchange);
    }
    const sse = new SseResponse(res, headers);
    exchange.status = 200;
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
      await sse.write(
        protocol === 'openai'
          ? `data: ${JSON.stringify(openAIErrorBody(failure))}\n\n`
          : `event: error\ndata: ${JSON.stringify(anthropicErrorBody(failure))}\n\n`,
      );
    } finally {
      response.release();
      sse.end();
    }
    if (tap.usage)
      answered(exchange, priced(tap.usage, deployment.provider, deployment.model, tap.model), deployment.id);
    // Only a whole answer is kept: one that ended with its usage, neither cut short nor broken.
    const recorded = sse.recorded();
    if (store && complete && tap.usage && recorded) await store({ kind: 'sse', body: recorded });
    return ledgerEntry(exchange);
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
): Promise<LedgerEntry | undefined> {
  const controller = new AbortController();
  const events = context.router.stream({ ...request, signal: controller.signal });
  // The first event decides between an error response and a 200 stream.
  const first = await events.next();
  const id = protocol === 'openai' ? `chatcmpl-${exchange.id}` : `msg_${exchange.id}`;
  const writer =
    protocol === 'openai'
      ? new OpenAIChunkWriter(id, request.model!, includeUsage)
      : new AnthropicEventWriter(id, request.model!);
  const sse = new SseResponse(res, { 'x-request-id': exchange.id });
  exchange.status = 200;
  if (store) sse.record(context.cacheMaxEntryBytes);
  const onClose = () => controller.abort();
  res.once('close', onClose);
  try {
    let finished = false;
    for (let step = first; !step.done; step = await events.next()) {
      const event: StreamEvent = step.value;
      if (sse.closed) break;
      if (event.type === 'finish') {
        finished = true;
        answered(exchange, event.usage, event.route?.deployment);
      }
      await sse.write(writer.write(event));
    }
    const recorded = sse.recorded();
    if (store && finished && recorded && !sse.closed) await store({ kind: 'sse', body: recorded });
    return ledgerEntry(exchange);
  } catch (error) {
    const failure = toGatewayError(error);
    exchange.status = failure.status;
    context.logger?.warn({ requestId: exchange.id, error: failure.message }, 'stream failed after it began');
    await sse.write(
      writer.error(protocol === 'openai' ? openAIErrorBody(failure) : anthropicErrorBody(failure)),
    );
    return ledgerEntry(exchange);
  } finally {
    res.off('close', onClose);
    await events.return(undefined).catch(() => {});
    sse.end();
  }
}
