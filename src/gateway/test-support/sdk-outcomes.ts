/**
 * What an official client makes of one call through the gateway, as data a test can compare: an HTTP
 * error of the SDK's class for its status, an error raised in the middle of a stream (an in-band error
 * event), an answer and how it finished, or something else the SDK raised (its own parse error). A stream
 * that ends without an error is an answer: the failure other gateways turn into a clean 200 shows as one.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ProviderName } from '../../spec/types.ts';
import { OPENAI_FAMILY } from './sdk-gateway.ts';

export type Sdk = 'openai' | 'anthropic';

export type Outcome =
  | { kind: 'status'; status: number; error: Error; retryAfter: string | null }
  | { kind: 'in-band'; message: string }
  | { kind: 'answer'; finish: string; text: string }
  | { kind: 'raised'; name: string; message: string };

type ErrorClass = abstract new (...args: never[]) => Error;

/** The class each SDK maps a status to. */
export const SDK_CLASSES: Readonly<Record<number, Readonly<Record<Sdk, ErrorClass>>>> = {
  400: { openai: OpenAI.BadRequestError, anthropic: Anthropic.BadRequestError },
  429: { openai: OpenAI.RateLimitError, anthropic: Anthropic.RateLimitError },
  502: { openai: OpenAI.InternalServerError, anthropic: Anthropic.InternalServerError },
  503: { openai: OpenAI.InternalServerError, anthropic: Anthropic.ServiceUnavailableError },
  504: { openai: OpenAI.InternalServerError, anthropic: Anthropic.GatewayTimeoutError },
  529: { openai: OpenAI.InternalServerError, anthropic: Anthropic.OverloadedError },
};

/** True when the client's protocol is what the deployment speaks (the body passes through). */
export const passesThrough = (sdk: Sdk, provider: ProviderName) =>
  sdk === 'openai' ? OPENAI_FAMILY.has(provider) : provider === 'anthropic';

function caught(error: unknown): Outcome {
  const isApiError = error instanceof OpenAI.APIError || error instanceof Anthropic.APIError;
  const isConnection =
    error instanceof OpenAI.APIConnectionError || error instanceof Anthropic.APIConnectionError;
  if (isApiError && !isConnection && typeof error.status === 'number') {
    return {
      kind: 'status',
      status: error.status,
      error,
      retryAfter: error.headers?.get('retry-after') ?? null,
    };
  }
  if (isApiError && !isConnection) return { kind: 'in-band', message: error.message };
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  return { kind: 'raised', name, message };
}

/** One chat call through `client` (an SDK's) to `model`, whole or streamed, read to its end. */
export async function outcomeOf(
  client: OpenAI | Anthropic,
  model: string,
  stream: boolean,
  prompt = 'Tell me about the weather',
): Promise<Outcome> {
  try {
    if (client instanceof OpenAI) {
      const messages = [{ role: 'user' as const, content: prompt }];
      if (!stream) {
        const answer = await client.chat.completions.create({ model, messages });
        const choice = answer.choices[0];
        return { kind: 'answer', finish: String(choice?.finish_reason), text: choice?.message.content ?? '' };
      }
      let finish = 'none';
      let text = '';
      for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      return { kind: 'answer', finish, text };
    }
    const request = { model, max_tokens: 300, messages: [{ role: 'user' as const, content: prompt }] };
    if (!stream) {
      const answer = await client.messages.create(request);
      const text = answer.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      return { kind: 'answer', finish: String(answer.stop_reason), text };
    }
    let finish = 'none';
    let text = '';
    for await (const event of await client.messages.create({ ...request, stream: true })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') finish = String(event.delta.stop_reason);
    }
    return { kind: 'answer', finish, text };
  } catch (error) {
    return caught(error);
  }
}

/** A short description of an outcome for a failure message. */
export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'status':
      return `${outcome.error.constructor.name} ${outcome.status}: ${outcome.error.message.slice(0, 120)}`;
    case 'in-band':
      return `in-band error: ${outcome.message.slice(0, 120)}`;
    case 'answer':
      return `answer (${outcome.finish}): ${JSON.stringify(outcome.text.slice(0, 40))}`;
    case 'raised':
      return `${outcome.name}: ${outcome.message.slice(0, 120)}`;
  }
}
