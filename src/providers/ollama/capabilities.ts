/**
 * What Ollama models can do. Structured output is `format` with a JSON Schema, turned into a grammar that
 * constrains decoding, on every local model; Ollama's cloud models (`…-cloud`) do not have it ("Ollama's
 * Cloud currently does not support structured outputs"). There is no `tool_choice`, so no forced tool call:
 * `generateObject` goes native. Ollama fetches no URL, so the client downloads images and sends their bytes.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/capabilities/structured-outputs.mdx
 */
import type { ModelCapabilities } from '../provider.ts';

const CLOUD_MODEL = /[-:]cloud$/i;

export function ollamaCapabilities(model: string): ModelCapabilities {
  return {
    structuredOutput: !CLOUD_MODEL.test(model),
    forcedToolChoice: false,
    forcedToolChoiceWithReasoning: false,
    imageUrls: false,
    fileUrls: false,
  };
}
