/**
 * What the emulated Ollama knows about models: a small catalogue for `/api/tags` and `/api/show`, the
 * embedding dimensions, how model names match (`llama3.2` is `llama3.2:latest`), and Go's JSON encoding.
 */
import { createHash } from 'node:crypto';
import { type Exchange, sendJson } from './exchange.ts';

/** A model as `/api/tags` and `/api/show` describe it. */
export interface OllamaModelInfo {
  name: string;
  family: string;
  parameterSize: string;
  quantization: string;
  sizeBytes: number;
  contextLength: number;
  /** The width of the model's hidden state; for embedding models, the vector dimension. */
  embeddingLength: number;
  capabilities: string[];
}

const CATALOG: readonly OllamaModelInfo[] = [
  {
    name: 'llama3.2:latest',
    family: 'llama',
    parameterSize: '3.2B',
    quantization: 'Q4_K_M',
    sizeBytes: 2_019_393_189,
    contextLength: 131_072,
    embeddingLength: 3072,
    capabilities: ['completion', 'tools'],
  },
  {
    name: 'qwen3:8b',
    family: 'qwen3',
    parameterSize: '8.2B',
    quantization: 'Q4_K_M',
    sizeBytes: 5_225_388_164,
    contextLength: 40_960,
    embeddingLength: 4096,
    capabilities: ['completion', 'tools', 'thinking'],
  },
  {
    // A vision model without tool support: Ollama answers tools for it with `does not support tools`.
    name: 'gemma3:4b',
    family: 'gemma3',
    parameterSize: '4.3B',
    quantization: 'Q4_K_M',
    sizeBytes: 3_338_801_804,
    contextLength: 131_072,
    embeddingLength: 2560,
    capabilities: ['completion', 'vision'],
  },
  {
    name: 'nomic-embed-text:latest',
    family: 'nomic-bert',
    parameterSize: '137M',
    quantization: 'F16',
    sizeBytes: 274_302_450,
    contextLength: 2048,
    embeddingLength: 768,
    capabilities: ['embedding'],
  },
  {
    name: 'mxbai-embed-large:latest',
    family: 'bert',
    parameterSize: '334M',
    quantization: 'F16',
    sizeBytes: 669_615_493,
    contextLength: 512,
    embeddingLength: 1024,
    capabilities: ['embedding'],
  },
];

/** `llama3.2` and `llama3.2:latest` are the same model to Ollama. */
export function fullModelName(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}

/** Families whose models think (`thinking` capability) and see (`vision`), by name. */
const THINKING_NAME = /qwen3|deepseek-r1|gpt-oss|magistral|reasoning|think/i;
const VISION_NAME = /vision|llava|-vl|vl:|gemma3|minicpm-v|moondream/i;

/**
 * The catalogue entry for a model, or a generic one: a chat model with tools (and thinking or vision when
 * its name says so), unless its name says embedding.
 */
export function modelInfo(name: string): OllamaModelInfo {
  const full = fullModelName(name);
  const known = CATALOG.find((model) => model.name === full);
  if (known) return known;
  const embedding = /embed/i.test(name);
  const capabilities = embedding ? ['embedding'] : ['completion', 'tools'];
  if (!embedding && THINKING_NAME.test(name)) capabilities.push('thinking');
  if (!embedding && VISION_NAME.test(name)) capabilities.push('vision');
  return {
    name: full,
    family: embedding ? 'bert' : 'llama',
    parameterSize: embedding ? '335M' : '8.0B',
    quantization: embedding ? 'F16' : 'Q4_K_M',
    sizeBytes: embedding ? 669_000_000 : 4_920_000_000,
    contextLength: embedding ? 2048 : 131_072,
    embeddingLength: 768,
    capabilities,
  };
}

/** 768 for nomic-embed-text, 1024 for mxbai-embed-large, 768 for anything else. */
export function ollamaEmbeddingDimension(model: string): number {
  return modelInfo(model).embeddingLength === 1024 ? 1024 : 768;
}

/** True when the model is served: every model, unless the emulator was given a list. */
export function isServed(exchange: Exchange, model: string): boolean {
  if (!exchange.models) return true;
  const full = fullModelName(model);
  return exchange.models.some((served) => fullModelName(served) === full);
}

/** The modification time every listed model reports (fixed, so listings are reproducible). */
export const MODIFIED_AT = '2025-05-04T17:37:44.706015396-07:00';

/** One entry of `/api/tags`, in the documented shape. */
export function tagEntry(name: string): Record<string, unknown> {
  const info = modelInfo(name);
  return {
    name: info.name,
    model: info.name,
    modified_at: MODIFIED_AT,
    size: info.sizeBytes,
    digest: createHash('sha256').update(info.name).digest('hex'),
    details: detailsOf(info),
  };
}

/** The `details` object of a model in `/api/tags` and `/api/show`. */
export function detailsOf(info: OllamaModelInfo): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: info.family,
    families: [info.family],
    parameter_size: info.parameterSize,
    quantization_level: info.quantization,
  };
}

/** The models `/api/tags` lists: the served ones when the emulator was given a list, else the catalogue. */
export function listedModels(exchange: Exchange): string[] {
  return exchange.models ? [...exchange.models] : CATALOG.map((model) => model.name);
}

/** JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped (they appear only in strings). */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The content type of every JSON body the Ollama server (gin) writes. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A JSON answer with the content type gin gives it. */
export function sendOllamaJson(
  exchange: Exchange,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(exchange, status, goJson(body), { 'content-type': JSON_CONTENT_TYPE, ...headers });
}

/** `{"error": "…"}`, the native API's only error shape. */
export function sendOllamaError(
  exchange: Exchange,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendOllamaJson(exchange, status, { error: message }, headers);
}
