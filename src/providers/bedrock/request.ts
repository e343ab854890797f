/**
 * Builds Bedrock Converse / ConverseStream requests from our request shape, and the model paths every
 * Bedrock operation uses.
 */
import { LLMBadRequestError } from '../../spec/errors.ts';
import type { NormalizedRequest } from '../provider.ts';

export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke';

/**
 * A model id as one path segment. Ids and ARNs contain ':' and '/', so they are percent-encoded the way the
 * AWS SDK encodes labels (`encodeURIComponent`, plus `!'()*`); the request is signed with this exact path.
 */
export function encodeModelId(modelId: string): string {
  return encodeURIComponent(modelId).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `/model/{modelId}/{operation}` with the id encoded. */
export function modelPath(modelId: string, operation: BedrockOperation): string {
  return `/model/${encodeModelId(modelId)}/${operation}`;
}

type Block = Record<string, unknown>;
interface Turn {
  role: 'user' | 'assistant';
  content: Block[];
}

/**
 * The Converse body: system messages go to `system`; a tool message becomes a user turn with a `toolResult`
 * block; consecutive turns of one role are merged (Converse wants user and assistant to alternate).
 * `seed` has no Converse field and is not sent. `providerOptions` are merged last (`toolConfig`,
 * `additionalModelRequestFields`, `guardrailConfig`, …).
 */
export function converseBody(request: NormalizedRequest): string {
  const system: Block[] = [];
  const messages: Turn[] = [];
  request.messages.forEach((message, index) => {
    if (message.role === 'system') {
      system.push({ text: message.content });
      return;
    }
    let block: Block;
    if (message.role === 'tool') {
      if (!message.toolCallId) {
        throw new LLMBadRequestError(
          `Invalid request: \`messages[${index}].toolCallId\` is required for a tool message on bedrock (it becomes toolResult.toolUseId)`,
          { provider: 'bedrock', model: request.model },
        );
      }
      block = { toolResult: { toolUseId: message.toolCallId, content: [{ text: message.content }] } };
    } else {
      block = { text: message.content };
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(block);
    else messages.push({ role, content: [block] });
  });

  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;
  const inferenceConfig: Record<string, unknown> = {};
  if (request.maxTokens !== undefined) inferenceConfig.maxTokens = request.maxTokens;
  if (request.temperature !== undefined) inferenceConfig.temperature = request.temperature;
  if (request.topP !== undefined) inferenceConfig.topP = request.topP;
  if (request.stop !== undefined)
    inferenceConfig.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
  if (request.providerOptions) Object.assign(body, request.providerOptions);
  return JSON.stringify(body);
}
