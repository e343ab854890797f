/**
 * Azure's additions to the OpenAI error shapes: content-filter errors (`code: content_filter` with
 * `innererror` / `inner_error` details) and the Foundry variant where a 400 carries a whole chat
 * completion whose `finish_reason` is `content_filter`.
 */
import { LLMContentFilterError, type LLMError } from '../../spec/errors.ts';
import { isRecord } from '../../spec/json.ts';
import { buildError } from '../error-helpers.ts';
import { mapOpenAIError } from '../openai/errors.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

function filteredCompletion(bodyText: string): string | undefined {
  if (!bodyText.includes('content_filter')) return undefined;
  try {
    const body = JSON.parse(bodyText) as unknown;
    if (!isRecord(body) || !Array.isArray(body.choices)) return undefined;
    for (const choice of body.choices) {
      if (isRecord(choice) && choice.finish_reason === 'content_filter') {
        const results = isRecord(choice.content_filter_results) ? choice.content_filter_results : {};
        const error = isRecord(results.error) ? results.error : {};
        return typeof error.message === 'string' ? error.message : 'the response was filtered';
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function mapAzureError(response: ErrorResponse, context: CallContext): LLMError {
  const filtered = filteredCompletion(response.bodyText);
  if (filtered !== undefined) {
    return buildError(
      response,
      context,
      { type: LLMContentFilterError, retryable: false, message: filtered, providerCode: 'content_filter' },
      ['apim-request-id', 'x-request-id'],
    );
  }
  return mapOpenAIError(response, context);
}
