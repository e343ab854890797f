/**
 * What a Gemini model can do, read from its name. The generation (2.0, 2.5, 3) decides the schema dialect
 * (JSON Schema from 2.5 on, the OpenAPI subset before), the thinking knob (`thinkingBudget` on 2.5,
 * `thinkingLevel` on 3, none before 2.5), whether function calls must be replayed with their thought
 * signatures and whether tools and a JSON answer may be combined (3). Aliases (`gemini-flash-latest`) point
 * at current models; tuned and unknown models get the choices every model accepts.
 *
 * @see https://ai.google.dev/gemini-api/docs/models
 * @see https://ai.google.dev/gemini-api/docs/thinking
 */
import type { ModelCapabilities } from '../provider.ts';

export interface GeminiModel {
  /** 2.5 for `gemini-2.5-flash`, 3 for `gemini-3-pro-preview`; undefined for aliases, tuned and other models. */
  version: number | undefined;
  /** Tools and schemas as JSON Schema (`parametersJsonSchema`, `responseJsonSchema`), else the OpenAPI subset. */
  jsonSchema: boolean;
  /** How reasoning is asked for: `thinkingLevel`, `thinkingBudget`, or not at all (the model does not think). */
  thinking: 'level' | 'budget' | 'none';
  /** Gemini 3: function calls go back with their thought signatures; tools and JSON output combine. */
  gemini3: boolean;
  /** Function calling exists (hosted Gemma 3 and earlier have none). */
  tools: boolean;
  /** JSON output exists (`Json mode is not enabled for models/gemini-pro`, hosted Gemma). */
  json: boolean;
  /** A Pro model (no way to turn thinking off on 2.5; two thinking levels on 3). */
  pro: boolean;
}

const VERSIONED = /^gemini-(\d+)(?:\.(\d+))?-/;
const ALIAS = /^gemini-(?:flash|flash-lite|pro)-latest$/;
const OLD_GEMMA = /^gemma-[1-3](?!\d)/;

export function geminiModel(model: string): GeminiModel {
  const name = model.replace(/^models\//, '');
  const pro = /-pro\b/.test(name);
  const matched = VERSIONED.exec(`${name}-`);
  if (matched) {
    const version = Number(`${matched[1]}.${matched[2] ?? '0'}`);
    return {
      version,
      jsonSchema: version >= 2.5,
      thinking: version >= 3 ? 'level' : version >= 2.5 ? 'budget' : 'none',
      gemini3: version >= 3,
      tools: true,
      json: version >= 1.5,
      pro,
    };
  }
  if (ALIAS.test(name)) {
    return {
      version: undefined,
      jsonSchema: true,
      thinking: 'budget',
      gemini3: false,
      tools: true,
      json: true,
      pro,
    };
  }
  if (name === 'gemini-pro' || name === 'gemini-pro-vision') {
    return { version: 1, jsonSchema: false, thinking: 'none', gemini3: false, tools: true, json: false, pro };
  }
  if (OLD_GEMMA.test(name)) {
    return {
      version: undefined,
      jsonSchema: false,
      thinking: 'none',
      gemini3: false,
      tools: false,
      json: false,
      pro,
    };
  }
  // Tuned and unknown models: the dialect and the knob every model accepts; the API says what it lacks.
  return {
    version: undefined,
    jsonSchema: false,
    thinking: 'budget',
    gemini3: false,
    tools: true,
    json: true,
    pro,
  };
}

/**
 * Native structured output wherever JSON output exists; a forced call (`ANY`) wherever tools exist, thinking
 * or not. Gemini fetches no arbitrary URLs (only its Files API and YouTube), so the client downloads them.
 */
export function geminiCapabilities(model: string): ModelCapabilities {
  const info = geminiModel(model);
  return {
    structuredOutput: info.json,
    forcedToolChoice: info.tools,
    forcedToolChoiceWithReasoning: info.tools,
    imageUrls: false,
    fileUrls: false,
  };
}
