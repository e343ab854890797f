/**
 * What a request may ask of the model beyond text: tools it may call, the shape its answer must take, and
 * how much it should reason. One vocabulary for every provider; each adapter maps it to its own wire.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';

/** A JSON Schema object (draft 2020-12 or draft-07). */
export type JsonSchema = Record<string, unknown>;

/**
 * A schema: a JSON Schema object, or a Standard Schema (zod 4, valibot, arktype, …) that also exposes its
 * JSON Schema through Standard JSON Schema (`~standard.jsonSchema`; valibot: `toStandardJsonSchema(schema)`).
 */
export type SchemaInput<T = unknown> =
  | JsonSchema
  | (StandardSchemaV1<unknown, T> & StandardJSONSchemaV1<unknown, T>)
  | StandardJSONSchemaV1<unknown, T>;

/** The value type a schema describes (`unknown` for a plain JSON Schema). */
export type InferSchema<S> = S extends StandardSchemaV1<unknown, infer T> ? T : unknown;

export interface ToolDefinition {
  /** `^[a-zA-Z0-9_-]{1,64}$`: the one rule every provider accepts. */
  name: string;
  description?: string;
  /** The arguments' schema; its root must be an object. */
  parameters: SchemaInput;
  /** Ask for constrained decoding of the arguments where the provider has it (OpenAI, Anthropic). */
  strict?: boolean;
}

/**
 * `auto`: the model decides; `none`: no call; `required`: at least one call; `{ type: 'tool', name }`: that
 * tool. Default `auto` when tools are given.
 */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  /** Any JSON value (JSON mode), where the provider has it. */
  | { type: 'json' }
  | {
      type: 'json-schema';
      schema: SchemaInput;
      /** A name for the schema (OpenAI requires one; default `response`). */
      name?: string;
      description?: string;
      /** Constrained decoding where the provider has it. Default true. */
      strict?: boolean;
    };

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

export interface ReasoningOptions {
  /** How hard to think (OpenAI `reasoning_effort`, Gemini 3 `thinkingLevel`, Ollama `think` levels). */
  effort?: ReasoningEffort;
  /** A token budget for thinking (Anthropic and Bedrock Claude `budget_tokens`, Gemini 2.5 `thinkingBudget`). */
  budgetTokens?: number;
}

/** Something the adapter could not carry over exactly, said instead of silently dropped. */
export interface Warning {
  /**
   * A stable code: `schema-keyword-dropped`, `schema-keyword-changed`, `strict-off`, `setting-ignored`,
   * `setting-changed`, `metadata-dropped`, `tools-synthesized`, `message-merged`, `content-changed`,
   * `media-type-changed`, `document-renamed`, `tool-name-changed`, `thought-signature-skipped`,
   * `tool-arguments-incomplete`.
   */
  code: string;
  message: string;
}
