/**
 * What OpenAI models can do. Structured outputs (`json_schema`) came with gpt-4o-2024-08-06; every newer
 * family has them (gpt-4o and its minis, gpt-4.1, gpt-5, o1 and later reasoning models); gpt-3.5 and the
 * first gpt-4 do not. Chat Completions fetches image URLs itself but takes PDFs inline only.
 *
 * @see https://platform.openai.com/docs/guides/structured-outputs#supported-models
 */
import type { ModelCapabilities } from '../provider.ts';

const NO_STRUCTURED_OUTPUT =
  /^(?:ft:)?(?:gpt-3\.5|gpt-4(?:-\d{4}|-turbo|-32k|-vision|$)|gpt-4o-2024-05-13|o1-(?:mini|preview))/i;

export function openAICapabilities(model: string): ModelCapabilities {
  return {
    structuredOutput: !NO_STRUCTURED_OUTPUT.test(model),
    forcedToolChoice: true,
    forcedToolChoiceWithReasoning: true,
    imageUrls: true,
    fileUrls: false,
  };
}

/**
 * Compatible servers (vLLM, llama.cpp, LM Studio, Ollama's /v1, Groq, …) mostly take `json_schema` and a
 * forced `tool_choice`; many cannot fetch URLs (Ollama's /v1: "image URLs are not currently supported"),
 * so images go inline.
 */
export function compatibleCapabilities(): ModelCapabilities {
  return {
    structuredOutput: true,
    forcedToolChoice: true,
    forcedToolChoiceWithReasoning: true,
    imageUrls: false,
    fileUrls: false,
  };
}
