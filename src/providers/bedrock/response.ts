/**
 * Reads Bedrock Converse responses. Lenient: unknown fields and blocks are ignored and kept in `raw`. The
 * message keeps every block in order: text, reasoning (`reasoningContent.reasoningText` with its signature,
 * or `redactedContent`, under `providerMetadata.bedrock`) and tool calls (`toolUse`, the input object as
 * JSON text). Bedrock sends no completion id and does not echo the model, so the id is the request id
 * (`x-amzn-requestid`) and the model is the one asked for.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 */
import { isRecord } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, Usage } from '../../spec/types.ts';
import { invalidResponse } from '../error-helpers.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { completionResult, noUsage } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';

/** Converse `stopReason` → our finish reason (the raw value is kept in `rawFinishReason`). */
export function mapBedrockStopReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content-filter';
    case 'malformed_model_output':
    case 'malformed_tool_use':
      return 'error';
    default:
      return 'other';
  }
}

/**
 * Converse `usage` → ours. Bedrock reports cache reads and writes beside `inputTokens`, not inside it;
 * our `inputTokens` is everything the prompt cost (as for Anthropic), with the cached and written parts
 * in `cachedInputTokens` and `cacheWriteInputTokens` so they can be priced apart.
 */
export function mapBedrockUsage(usage: unknown): Usage {
  if (!isRecord(usage)) return noUsage();
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const read = count(usage.cacheReadInputTokens);
  const written = count(usage.cacheWriteInputTokens);
  const inputTokens = count(usage.inputTokens) + read + written;
  const outputTokens = count(usage.outputTokens);
  const result: Usage = {
    inputTokens,
    outputTokens,
    totalTokens:
      read + written > 0 || typeof usage.totalTokens !== 'number'
        ? inputTokens + outputTokens
        : usage.totalTokens,
  };
  if (typeof usage.cacheReadInputTokens === 'number') result.cachedInputTokens = read;
  if (written > 0) result.cacheWriteInputTokens = written;
  return result;
}

/** One reasoning block of a whole response into the assembler. */
function addReasoningBlock(reasoning: Record<string, unknown>, assembler: MessageAssembler): void {
  const text = isRecord(reasoning.reasoningText) ? reasoning.reasoningText : undefined;
  if (text) {
    const reasoningText = typeof text.text === 'string' ? text.text : '';
    const signed = typeof text.signature === 'string' ? { signature: text.signature } : undefined;
    if (reasoningText === '') {
      // Signed but shown empty (Claude Opus 4.7 omits thinking unless asked): its own part still.
      if (signed) assembler.addOpaqueReasoning('bedrock', signed);
      return;
    }
    assembler.boundary();
    assembler.addReasoning(reasoningText);
    if (signed) assembler.annotate('reasoning', 'bedrock', signed);
  } else if (typeof reasoning.redactedContent === 'string') {
    assembler.addOpaqueReasoning('bedrock', { redactedContent: reasoning.redactedContent });
  }
}

/** A Converse response → our result, every block of the message in order. */
export function parseBedrockConverse(body: unknown, context: CallContext): CompletionResult {
  const output = isRecord(body) ? body.output : undefined;
  if (!isRecord(body) || !isRecord(output)) {
    throw invalidResponse(context, 'returned a Converse response without output', { body });
  }
  const message = isRecord(output.message) ? output.message : {};
  const content = Array.isArray(message.content) ? message.content : [];
  const assembler = new MessageAssembler();
  for (const block of content) {
    if (!isRecord(block)) continue;
    if (typeof block.text === 'string') {
      assembler.boundary();
      assembler.addText(block.text);
    } else if (isRecord(block.reasoningContent)) addReasoningBlock(block.reasoningContent, assembler);
    else if (isRecord(block.toolUse)) {
      const use = block.toolUse;
      assembler.addToolCall(
        typeof use.toolUseId === 'string' ? use.toolUseId : undefined,
        typeof use.name === 'string' ? use.name : '',
        use.input === undefined || use.input === null ? '' : JSON.stringify(use.input),
      );
    }
  }
  const rawFinishReason = typeof body.stopReason === 'string' ? body.stopReason : undefined;
  // Bedrock neither names the model nor ids the message: the model asked for, and the request id.
  return completionResult(
    {
      finishReason: mapBedrockStopReason(rawFinishReason),
      rawFinishReason,
      usage: mapBedrockUsage(body.usage),
      id: context.requestId,
      raw: body,
    },
    context,
    assembler,
  );
}
