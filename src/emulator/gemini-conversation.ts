/**
 * Reads a `generateContent` request into the planner's `Turn`, enforcing what Gemini enforces, each refusal
 * with the real service's message:
 * - every part holds data (`required oneof field 'data' must have one initialized field`), no turn is empty;
 * - a function response turn comes right after a function call turn and answers each of its calls; a
 *   function call turn comes after a user turn or a function response turn;
 * - a replayed thought signature is intact (`Corrupted thought signature.`), and on Gemini 3 the first call
 *   of each model step of the current turn carries one (`Function call is missing a thought_signature …`);
 * - OpenAPI-style schemas parse (`gemini-openapi.ts`), and are not given beside their JSON Schema twin;
 * - before Gemini 3, function calling and a JSON answer do not combine.
 *
 * Signatures are the emulator's own: the reasoning they stand for with an HMAC of it (`signReasoning`), so
 * one altered on its way back is caught; `skip_thought_signature_validator` passes, as on the real service.
 */
import { isRecord, type Json } from '../spec/json.ts';
import {
  base64Bytes,
  type ReceivedMedia,
  signReasoning,
  type Turn,
  type TurnTool,
  type TurnToolResult,
  verifyReasoning,
} from './conversation.ts';
import { type FieldViolation, parseViolations, semanticViolation, toJsonSchema } from './gemini-openapi.ts';
import { conversationOf } from './gemini-wire.ts';

/** A request the real service refuses with 400 INVALID_ARGUMENT: its message, and details when it has some. */
export class GeminiRequestError extends Error {
  readonly details: Json[] | undefined;
  constructor(message: string, details?: Json[]) {
    super(message);
    this.details = details;
  }
}

export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

/** The request as the planner and the renderer need it. */
export interface GeminiTurn {
  turn: Turn;
  /** Thought summaries were asked for (`thinkingConfig.includeThoughts`). */
  includeThoughts: boolean;
  /** Gemini 3: function calls have ids, and every answer is signed. */
  gemini3: boolean;
}

/** A signature for `reasoning`: the reasoning and an HMAC of it, base64, opaque to clients. */
export function thoughtSignature(reasoning: string): string {
  return Buffer.from(JSON.stringify({ thought: reasoning, mac: signReasoning(reasoning) })).toString(
    'base64',
  );
}

function intact(signature: unknown): boolean {
  if (signature === SKIP_SIGNATURE) return true;
  if (typeof signature !== 'string') return false;
  const bytes = Buffer.from(signature, 'base64');
  // Base64 decoding skips what it cannot read: only the exact encoding counts.
  if (bytes.toString('base64') !== signature) return false;
  try {
    const decoded: unknown = JSON.parse(bytes.toString('utf8'));
    return (
      isRecord(decoded) &&
      typeof decoded.thought === 'string' &&
      verifyReasoning(decoded.thought, decoded.mac)
    );
  } catch {
    return false;
  }
}

const isGemini3 = (model: string) => Number(/^(?:models\/)?gemini-(\d+)/.exec(model)?.[1] ?? 0) >= 3;

const DATA_FIELDS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'executableCode',
  'codeExecutionResult',
];

/** A part holds data: a field of the `data` oneof (an empty text only beside a signature or a thought flag). */
function holdsData(part: unknown): boolean {
  if (!isRecord(part)) return false;
  if (typeof part.text === 'string')
    return part.text !== '' || 'thoughtSignature' in part || part.thought === true;
  return DATA_FIELDS.some((field) => isRecord(part[field]));
}

function fail(message: string, violations?: FieldViolation[]): never {
  const details = violations && [
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations },
  ];
  throw new GeminiRequestError(message, details);
}

function partsOf(content: unknown): Json[] {
  return isRecord(content) && Array.isArray(content.parts) ? (content.parts as Json[]) : [];
}

function textOf(parts: readonly Json[]): string {
  let text = '';
  for (const part of parts) if (typeof part.text === 'string' && part.thought !== true) text += part.text;
  return text;
}

function mediaOf(parts: readonly Json[]): ReceivedMedia[] {
  const media: ReceivedMedia[] = [];
  for (const part of parts) {
    if (isRecord(part.inlineData)) {
      const { mimeType, data } = part.inlineData;
      media.push({ mediaType: String(mimeType), bytes: typeof data === 'string' ? base64Bytes(data) : 0 });
    } else if (isRecord(part.fileData)) media.push({ mediaType: String(part.fileData.mimeType), bytes: 0 });
  }
  return media;
}

function resultOf(part: Json): TurnToolResult {
  const call = part.functionResponse as Json;
  const response = isRecord(call.response) ? call.response : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const isError = 'error' in response && !('output' in response);
  const content = isError
    ? text(response.error)
    : 'output' in response
      ? text(response.output)
      : JSON.stringify(response);
  return { name: typeof call.name === 'string' ? call.name : undefined, content, isError };
}

/** Parts with data, turns with parts, calls and responses in their places, signatures intact. */
function checkContents(contents: readonly unknown[], gemini3: boolean): void {
  const empty: string[] = [];
  contents.forEach((content, index) => {
    const parts = partsOf(content);
    if (parts.length === 0)
      empty.push(`* GenerateContentRequest.contents[${index}].parts: contents.parts must not be empty.\n`);
    parts.forEach((part, at) => {
      if (!holdsData(part)) {
        empty.push(
          `* GenerateContentRequest.contents[${index}].parts[${at}].data: required oneof field 'data' must have one initialized field\n`,
        );
      }
    });
  });
  if (empty.length > 0) fail(empty.join(''));
  let previousCalls = -1; // calls of the turn before, when it was a model turn
  let currentTurn = 0; // where the current turn began: the last user content that is not only responses
  contents.forEach((content, index) => {
    const parts = partsOf(content);
    const model = isRecord(content) && content.role === 'model';
    const calls = parts.filter((part) => isRecord(part.functionCall)).length;
    const responses = parts.filter((part) => isRecord(part.functionResponse)).length;
    if (model && calls > 0 && (index === 0 || previousCalls !== -1)) {
      fail(
        'Please ensure that function call turn comes immediately after a user turn or after a function response turn.',
      );
    }
    if (!model && responses > 0) {
      if (previousCalls <= 0)
        fail('Please ensure that function response turn comes immediately after a function call turn.');
      if (responses !== previousCalls) {
        fail(
          'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
        );
      }
    }
    if (!model && responses < parts.length) currentTurn = index;
    if (model && parts.some((part) => 'thoughtSignature' in part && !intact(part.thoughtSignature))) {
      fail('Corrupted thought signature.');
    }
    previousCalls = model ? calls : -1;
  });
  if (!gemini3) return;
  contents.forEach((content, index) => {
    if (index < currentTurn || !isRecord(content) || content.role !== 'model') return;
    const first = partsOf(content).find((part) => isRecord(part.functionCall));
    if (first && !('thoughtSignature' in first)) {
      const name = String((first.functionCall as Json).name);
      fail(
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${index + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
    }
  });
}

/** Function declarations → the planner's tools; their OpenAPI schemas parsed as the service parses them. */
function readTools(body: Json, violations: FieldViolation[], semantic: string[]): TurnTool[] {
  const tools: TurnTool[] = [];
  (Array.isArray(body.tools) ? body.tools : []).forEach((tool, t) => {
    const declarations =
      isRecord(tool) && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : [];
    declarations.forEach((declaration, d) => {
      if (!isRecord(declaration) || typeof declaration.name !== 'string') return;
      const path = `tools[${t}].function_declarations[${d}]`;
      if (declaration.parameters !== undefined && declaration.parametersJsonSchema !== undefined) {
        semantic.push(`${path}: parameters_json_schema is mutually exclusive with parameters`);
      }
      if (declaration.parameters !== undefined) {
        violations.push(...parseViolations(declaration.parameters, `${path}.parameters`));
        const found = semanticViolation(declaration.parameters, `${path}.parameters`);
        if (found) semantic.push(found);
      }
      const schema = isRecord(declaration.parametersJsonSchema)
        ? declaration.parametersJsonSchema
        : isRecord(declaration.parameters)
          ? toJsonSchema(declaration.parameters)
          : { type: 'object', properties: {} };
      tools.push({ name: declaration.name, schema });
    });
  });
  return tools;
}

/** The answer's shape from `generationConfig`: a schema, any JSON, or text. */
function readResponseFormat(
  config: Json,
  violations: FieldViolation[],
  semantic: string[],
): Turn['responseFormat'] {
  if (config.responseSchema !== undefined) {
    violations.push(...parseViolations(config.responseSchema, 'generation_config.response_schema'));
    if (config.responseJsonSchema !== undefined) {
      semantic.push('generation_config: response_json_schema is mutually exclusive with response_schema');
    }
  }
  if (config.responseMimeType !== 'application/json') return undefined;
  if (isRecord(config.responseJsonSchema)) return config.responseJsonSchema;
  if (isRecord(config.responseSchema)) return toJsonSchema(config.responseSchema);
  return 'json';
}

/** `functionCallingConfig` → the planner's choice; `ANY` with several allowed names narrows `tools` to them. */
function readToolChoice(body: Json, tools: TurnTool[]): Turn['toolChoice'] {
  const calling = isRecord(body.toolConfig) ? body.toolConfig.functionCallingConfig : undefined;
  const mode = isRecord(calling) && typeof calling.mode === 'string' ? calling.mode.toUpperCase() : 'AUTO';
  if (mode === 'NONE') return 'none';
  if (mode !== 'ANY') return 'auto';
  const allowed =
    isRecord(calling) && Array.isArray(calling.allowedFunctionNames) ? calling.allowedFunctionNames : [];
  if (allowed.length === 1) return { name: String(allowed[0]) };
  if (allowed.length > 1)
    tools.splice(0, tools.length, ...tools.filter((tool) => allowed.includes(tool.name)));
  return 'required';
}

/** The request as a `Turn`, after Gemini's rules (the caller has checked that `contents` is a non-empty array). */
export function readGeminiTurn(body: Json, model: string): GeminiTurn {
  const contents = body.contents as unknown[];
  const gemini3 = isGemini3(model);
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const violations: FieldViolation[] = [];
  const semantic: string[] = [];
  const tools = readTools(body, violations, semantic);
  const responseFormat = readResponseFormat(config, violations, semantic);
  if (violations.length > 0)
    fail(violations.map((violation) => violation.description).join('\n'), violations);
  if (semantic.length > 0) fail(semantic.map((line) => `* GenerateContentRequest.${line}\n`).join(''));
  const toolChoice = readToolChoice(body, tools);
  if (
    !gemini3 &&
    tools.length > 0 &&
    toolChoice !== 'none' &&
    config.responseMimeType === 'application/json'
  ) {
    fail("Function calling with a response mime type: 'application/json' is unsupported");
  }
  checkContents(contents, gemini3);

  const last = contents[contents.length - 1];
  const lastParts = partsOf(last);
  const endsWithResults =
    isRecord(last) &&
    last.role !== 'model' &&
    lastParts.length > 0 &&
    lastParts.every((part) => isRecord(part.functionResponse));
  const asked = [...contents]
    .reverse()
    .find(
      (content) =>
        isRecord(content) &&
        content.role !== 'model' &&
        partsOf(content).some((part) => !isRecord(part.functionResponse)),
    );
  const thinking = isRecord(config.thinkingConfig) ? config.thinkingConfig : {};
  const thinks =
    thinking.includeThoughts === true ||
    thinking.thinkingLevel !== undefined ||
    (typeof thinking.thinkingBudget === 'number' && thinking.thinkingBudget !== 0);
  return {
    turn: {
      // The conversation as text, so that the same question gets the same answer from any client.
      key: JSON.stringify([model, conversationOf(body)]),
      lastUserText: textOf(partsOf(asked)),
      toolResults: endsWithResults ? lastParts.map(resultOf) : undefined,
      tools,
      toolChoice,
      responseFormat,
      reasoning: gemini3 || thinks,
      media: mediaOf(partsOf(asked)),
    },
    includeThoughts: thinking.includeThoughts === true,
    gemini3,
  };
}
