/**
 * InvokeModel in the emulator, for the embedding models: Amazon Titan text embeddings (v2: 1024 dimensions,
 * or 256 / 512 with `dimensions`; v1: 1536) and Cohere Embed (v3: 1024; v4: 1536, or `output_dimension`).
 * Bodies are validated the way Bedrock does ("Malformed input request: …"). Other models are not served.
 */
import { embeddingFamily } from '../providers/bedrock/embeddings.ts';
import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { sendAwsError } from './bedrock-exchange.ts';
import { embedText } from './embeddings.ts';
import { corruptBody, type Exchange, sendJson, wait } from './exchange.ts';

const TITAN_V2_DIMENSIONS = [256, 512, 1024];
const COHERE_V4_DIMENSIONS = [256, 512, 1024, 1536];
const COHERE_INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'];
const COHERE_EMBEDDING_TYPES = ['float', 'int8', 'uint8'];

const malformed = (detail: string) =>
  `Malformed input request: ${detail}, please reformat your input and try again.`;

/** Answers InvokeModel for `modelId`. */
export async function invoke(
  exchange: Exchange,
  body: Json,
  modelId: string,
  requestId: string,
): Promise<void> {
  const family = embeddingFamily(modelId);
  const reject = (message: string) => sendAwsError(exchange, 400, 'ValidationException', message, requestId);
  if (!family) {
    reject(
      `The emulator serves InvokeModel for embedding models only (amazon.titan-embed-text-*, cohere.embed-*), not ${modelId}.`,
    );
    return;
  }
  let result: { json: Json; inputTokens: number } | string;
  if (family === 'titan-v1' || family === 'titan-v2') result = titan(body, modelId, family === 'titan-v2');
  else result = cohere(body, modelId, family === 'cohere-v4');
  if (typeof result === 'string') {
    reject(result);
    return;
  }
  const started = Date.now();
  await wait(exchange.timing.latencyMs);
  const headers = {
    'x-amzn-requestid': requestId,
    'x-amzn-bedrock-invocation-latency': String(Date.now() - started),
    'x-amzn-bedrock-input-token-count': String(result.inputTokens),
  };
  const json = JSON.stringify(result.json);
  if (corruptBody(exchange, json, headers)) return;
  sendJson(exchange, 200, json, headers);
}

function titan(body: Json, modelId: string, v2: boolean): { json: Json; inputTokens: number } | string {
  for (const key of Object.keys(body)) {
    const allowed = v2 ? ['inputText', 'dimensions', 'normalize', 'embeddingTypes'] : ['inputText'];
    if (!allowed.includes(key)) return malformed(`extraneous key [${key}] is not permitted`);
  }
  if (!('inputText' in body)) return malformed('#: required key [inputText] not found');
  const text = body.inputText;
  if (typeof text !== 'string') return malformed(`#/inputText: expected type: String, found: ${typeof text}`);
  if (text.length === 0) return malformed('#/inputText: expected minLength: 1, actual: 0');
  let dimensions = v2 ? 1024 : 1536;
  if (body.dimensions !== undefined) {
    if (typeof body.dimensions !== 'number' || !TITAN_V2_DIMENSIONS.includes(body.dimensions))
      return malformed(`#/dimensions: ${String(body.dimensions)} is not a valid enum value`);
    dimensions = body.dimensions;
  }
  const embedding = Array.from(embedText(text, dimensions));
  const inputTokens = countOpenAITokens(text, modelId);
  const json: Json = { embedding, inputTextTokenCount: inputTokens };
  if (v2) json.embeddingsByType = { float: embedding };
  return { json, inputTokens };
}

function cohere(body: Json, modelId: string, v4: boolean): { json: Json; inputTokens: number } | string {
  const texts = body.texts;
  if (!Array.isArray(texts)) return malformed('#: required key [texts] not found');
  if (texts.length === 0) return malformed('#/texts: expected minimum item count: 1, found: 0');
  if (texts.length > 96) return malformed(`#/texts: expected maximum item count: 96, found: ${texts.length}`);
  const bad = texts.findIndex((text) => typeof text !== 'string');
  if (bad !== -1) return malformed(`#/texts/${bad}: expected type: String`);
  if (body.input_type === undefined) return malformed('#: required key [input_type] not found');
  if (!COHERE_INPUT_TYPES.includes(String(body.input_type)))
    return malformed(`#/input_type: ${String(body.input_type)} is not a valid enum value`);
  let dimensions = v4 ? 1536 : 1024;
  if (body.output_dimension !== undefined) {
    if (!v4) return malformed('extraneous key [output_dimension] is not permitted');
    if (typeof body.output_dimension !== 'number' || !COHERE_V4_DIMENSIONS.includes(body.output_dimension))
      return malformed(`#/output_dimension: ${String(body.output_dimension)} is not a valid enum value`);
    dimensions = body.output_dimension;
  }
  const types = body.embedding_types;
  if (types !== undefined) {
    if (!Array.isArray(types)) return malformed('#/embedding_types: expected type: JSONArray');
    const unknown = types.find((type) => !COHERE_EMBEDDING_TYPES.includes(String(type)));
    if (unknown !== undefined)
      return malformed(
        `#/embedding_types: ${String(unknown)} is not supported by the emulator (float, int8, uint8)`,
      );
  }
  // search_document is the vectors' plain form; a query (or another purpose) gets its own.
  const purpose = body.input_type === 'search_document' ? undefined : String(body.input_type);
  const floats = (texts as string[]).map((text) => Array.from(embedText(text, dimensions, purpose)));
  let inputTokens = 0;
  for (const text of texts as string[]) inputTokens += countOpenAITokens(text, modelId);
  const id = `emulator-${inputTokens.toString(16).padStart(8, '0')}`;
  if (types === undefined) {
    return { json: { id, texts, embeddings: floats, response_type: 'embeddings_floats' }, inputTokens };
  }
  const byType: Json = {};
  for (const type of types as string[]) {
    if (type === 'float') byType.float = floats;
    if (type === 'int8') byType.int8 = floats.map((vector) => vector.map((value) => Math.round(value * 127)));
    if (type === 'uint8')
      byType.uint8 = floats.map((vector) => vector.map((value) => Math.round((value + 1) * 127.5)));
  }
  return { json: { id, texts, embeddings: byType, response_type: 'embeddings_by_type' }, inputTokens };
}
