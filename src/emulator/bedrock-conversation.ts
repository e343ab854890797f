/**
 * Reads a Converse request into the planner's `Turn`, refusing what Bedrock refuses with its own words:
 * tool names outside `[a-zA-Z0-9_-]+` (in `toolConfig` and in the history), empty messages, roles that do
 * not alternate, reasoning in a user message, tool results mixed with other blocks, more tool results than
 * the turn before made calls, duplicate `toolUse` ids, tool blocks without `toolConfig`, tool choices a model
 * family does not have, Claude's own `tool_choice` beside `toolConfig.toolChoice`, and — through "The model
 * returned the following errors: …", as Bedrock relays Claude's — a forced tool while thinking, a result
 * whose call is not in the turn before, calls left unanswered, an altered reasoning signature, and
 * constrained schemas Claude's decoder cannot compile.
 *
 * Messages name list members 1-based where Bedrock's request validator does (`messages.2.member…`) and
 * 0-based elsewhere, as the recorded errors do.
 */
import { bedrockTraits } from '../providers/bedrock/capabilities.ts';
import { isRecord, type Json } from '../spec/json.ts';
import {
  base64Bytes,
  type ReceivedMedia,
  type Turn,
  type TurnToolResult,
  verifyReasoning,
} from './conversation.ts';

/** A request Bedrock answers with 400 ValidationException, and its message. */
export class ConverseRefusal extends Error {}

/** Claude's own refusals reach the caller wrapped by Bedrock. */
const fromModel = (message: string) =>
  new ConverseRefusal(`The model returned the following errors: ${message}`);

const NAME = /^[a-zA-Z0-9_-]+$/;
const DOCUMENT_NAME = /^(?:[A-Za-z0-9()[\]-]|\s(?!\s))+$/;
const DOCUMENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  csv: 'text/csv',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html',
  txt: 'text/plain',
  md: 'text/markdown',
};
/** What Claude's constrained decoder refuses ("For 'array' type, property 'maxItems' is not supported"). */
const UNCOMPILABLE = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
];

export interface ConverseRead {
  turn: Turn;
  /** The prompt's text, for token counts. */
  promptText: string;
  /** Claude is thinking: reasoning comes signed. */
  claude: boolean;
}

function patternError(path: string): ConverseRefusal {
  return new ConverseRefusal(
    `1 validation error detected: Value at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`,
  );
}

const blocksOf = (message: Json): Json[] =>
  Array.isArray(message.content) ? message.content.filter((block): block is Json => isRecord(block)) : [];

function textOf(blocks: readonly Json[]): string {
  let text = '';
  for (const block of blocks) {
    if (typeof block.text === 'string') text += block.text;
    else if (isRecord(block.json)) text += JSON.stringify(block.json);
    else if (isRecord(block.toolResult)) text += textOf(blocksOf(block.toolResult));
    else if (isRecord(block.toolUse)) text += JSON.stringify(block.toolUse.input ?? {});
  }
  return text;
}

function mediaOf(blocks: readonly Json[]): ReceivedMedia[] {
  const media: ReceivedMedia[] = [];
  for (const block of blocks) {
    const item = isRecord(block.image) ? block.image : isRecord(block.document) ? block.document : undefined;
    const source = item && isRecord(item.source) ? item.source : undefined;
    if (!item || !source) continue;
    const bytes = typeof source.bytes === 'string' ? base64Bytes(source.bytes) : 0;
    const format = String(item.format);
    media.push({ mediaType: block.image ? `image/${format}` : (DOCUMENT_TYPES[format] ?? format), bytes });
  }
  return media;
}

/** Claude's decoder's checks on a constrained schema (`where` prefixes the message). */
function checkCompilable(node: unknown, where: string): void {
  if (Array.isArray(node)) {
    for (const item of node) checkCompilable(item, where);
    return;
  }
  if (!isRecord(node)) return;
  const type = typeof node.type === 'string' ? node.type : 'object';
  if ((node.type === 'object' || isRecord(node.properties)) && node.additionalProperties !== false) {
    throw fromModel(`${where}: For 'object' type, 'additionalProperties' must be explicitly set to false`);
  }
  for (const keyword of UNCOMPILABLE) {
    if (keyword in node)
      throw fromModel(`${where}: For '${type}' type, property '${keyword}' is not supported`);
  }
  for (const [key, value] of Object.entries(node))
    if (key !== 'enum' && key !== 'const' && key !== 'default') checkCompilable(value, where);
}

function readTools(body: Json, claude: boolean): Turn['tools'] {
  const config = isRecord(body.toolConfig) ? body.toolConfig : undefined;
  const tools = Array.isArray(config?.tools) ? config.tools : [];
  return tools.flatMap((tool, index) => {
    const spec = isRecord(tool) && isRecord(tool.toolSpec) ? tool.toolSpec : undefined;
    if (!spec) return [];
    if (typeof spec.name !== 'string' || !NAME.test(spec.name))
      throw patternError(`toolConfig.tools.${index + 1}.member.toolSpec.name`);
    const input =
      isRecord(spec.inputSchema) && isRecord(spec.inputSchema.json)
        ? spec.inputSchema.json
        : { type: 'object', properties: {} };
    if (claude && spec.strict === true) checkCompilable(input, `tools.${index}.custom`);
    return [{ name: spec.name, schema: input }];
  });
}

/** The choice as the planner needs it, refusing members the model has not got. */
function readChoice(body: Json, modelId: string, thinking: boolean): Turn['toolChoice'] {
  const traits = bedrockTraits(modelId);
  const config = isRecord(body.toolConfig) ? body.toolConfig : {};
  const choice = isRecord(config.toolChoice) ? config.toolChoice : undefined;
  const additional = isRecord(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
  const anthropic = isRecord(additional.tool_choice) ? additional.tool_choice : undefined;
  const member = choice ? Object.keys(choice)[0] : undefined;
  if (anthropic && member) {
    throw new ConverseRefusal(
      `The additional field tool_choice/type conflicts with the existing field toolConfig.toolChoice.${member}. Remove tool_choice/type and try again.`,
    );
  }
  if ((member === 'any' && !traits.anyToolChoice) || (member === 'tool' && !traits.namedToolChoice)) {
    throw new ConverseRefusal(
      `This model doesn't support the toolConfig.toolChoice.${member} field. Remove toolConfig.toolChoice.${member} and try again.`,
    );
  }
  const named =
    choice && isRecord(choice.tool)
      ? choice.tool.name
      : anthropic?.type === 'tool'
        ? anthropic.name
        : undefined;
  const forced =
    member === 'any' || member === 'tool' || anthropic?.type === 'any' || anthropic?.type === 'tool';
  if (forced && thinking) throw fromModel('Thinking may not be enabled when tool_choice forces tool use.');
  if (typeof named === 'string') return { name: named };
  return forced ? 'required' : 'auto';
}

function thinkingOf(body: Json): boolean {
  const additional = isRecord(body.additionalModelRequestFields) ? body.additionalModelRequestFields : {};
  const thinking = isRecord(additional.thinking) ? additional.thinking.type : undefined;
  const config = isRecord(additional.reasoningConfig) ? additional.reasoningConfig.type : undefined;
  return (
    thinking === 'enabled' ||
    thinking === 'adaptive' ||
    config === 'enabled' ||
    typeof additional.reasoning_effort === 'string'
  );
}

function readResponseFormat(body: Json, claude: boolean): Turn['responseFormat'] {
  const output = isRecord(body.outputConfig) ? body.outputConfig : undefined;
  const format = output && isRecord(output.textFormat) ? output.textFormat : undefined;
  const structure = format && isRecord(format.structure) ? format.structure : undefined;
  const jsonSchema = structure && isRecord(structure.jsonSchema) ? structure.jsonSchema : undefined;
  if (!jsonSchema) return undefined;
  let schema: unknown;
  try {
    schema = JSON.parse(String(jsonSchema.schema));
  } catch {
    throw new ConverseRefusal(
      'The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON.',
    );
  }
  if (!isRecord(schema))
    throw new ConverseRefusal(
      'The JSON schema in outputConfig.textFormat.structure.jsonSchema.schema must be an object.',
    );
  if (claude) checkCompilable(schema, 'output_config.format.schema');
  return schema;
}

/** Checks one message's blocks against the turn before; returns its tool calls (id → name). */
function checkMessage(
  message: Json,
  index: number,
  previousCalls: Map<string, string>,
  claude: boolean,
): Map<string, string> {
  const blocks = blocksOf(message);
  if (blocks.length === 0) {
    throw new ConverseRefusal(
      `The content field in the Message object at messages.${index} is empty. Add a ContentBlock object to the content field and try again.`,
    );
  }
  const calls = new Map<string, string>();
  const results = blocks.filter((block) => isRecord(block.toolResult));
  blocks.forEach((block, at) => {
    const document = isRecord(block.document) ? block.document : undefined;
    if (document && !(typeof document.name === 'string' && DOCUMENT_NAME.test(document.name))) {
      throw new ConverseRefusal(
        "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can't contain more than one consecutive whitespace character. Check that the file name conforms to these restrictions and retry your request.",
      );
    }
    if (message.role === 'user' && isRecord(block.reasoningContent)) {
      throw new ConverseRefusal(
        'User messages cannot contain reasoning content. Please remove the reasoning content and try again.',
      );
    }
    const use = isRecord(block.toolUse) ? block.toolUse : undefined;
    if (use) {
      if (typeof use.name !== 'string' || !NAME.test(use.name))
        throw patternError(`messages.${index + 1}.member.content.${at + 1}.member.toolUse.name`);
      const id = String(use.toolUseId);
      if (calls.has(id))
        throw new ConverseRefusal(
          `The toolUse blocks at messages.${index}.content contain duplicate Ids: ${id}`,
        );
      calls.set(id, use.name);
    }
    const result = isRecord(block.toolResult) ? block.toolResult : undefined;
    if (result?.status === 'error' && blocksOf(result).length === 0) {
      throw new ConverseRefusal(
        `The content field at messages.${index}.content.${at}.toolResult cannot be empty when status value is error.`,
      );
    }
  });
  if (results.length > 0 && results.length < blocks.length) {
    throw new ConverseRefusal(
      `messages.${index}.content: Conversation blocks and tool result blocks cannot be provided in the same turn.`,
    );
  }
  if (results.length > previousCalls.size) {
    throw new ConverseRefusal(
      `The number of toolResult blocks at messages.${index}.content exceeds the number of toolUse blocks of previous turn.`,
    );
  }
  if (claude) checkWithClaude(blocks, index, previousCalls);
  return calls;
}

/** What Bedrock passes on and Claude itself refuses: altered signatures, results whose call is not just before. */
function checkWithClaude(blocks: readonly Json[], index: number, previousCalls: Map<string, string>): void {
  blocks.forEach((block, at) => {
    const reasoning =
      isRecord(block.reasoningContent) && isRecord(block.reasoningContent.reasoningText)
        ? block.reasoningContent.reasoningText
        : undefined;
    if (reasoning && !verifyReasoning(String(reasoning.text), reasoning.signature)) {
      throw fromModel(`messages.${index}.content.${at}: Invalid \`signature\` in \`thinking\` block`);
    }
    const result = isRecord(block.toolResult) ? block.toolResult : undefined;
    if (result && !previousCalls.has(String(result.toolUseId))) {
      throw fromModel(
        `messages.${index}.content.${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(result.toolUseId)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      );
    }
  });
}

/** The conversation as the planner needs it, after Bedrock's rules. */
export function readConverse(body: Json, modelId: string): ConverseRead {
  const messages = Array.isArray(body.messages)
    ? body.messages.filter((message): message is Json => isRecord(message))
    : [];
  if (messages.length === 0 || messages[0]?.role !== 'user') {
    throw new ConverseRefusal(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  }
  const claude = bedrockTraits(modelId).family === 'claude';
  const thinking = thinkingOf(body);
  const tools = readTools(body, claude);
  let calls = new Map<string, string>();
  let toolBlocks = false;
  let lastUserText = '';
  let media: ReceivedMedia[] = [];
  let toolResults: TurnToolResult[] | undefined;
  messages.forEach((message, index) => {
    if (index > 0 && message.role === messages[index - 1]!.role) {
      throw new ConverseRefusal(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
    const previous = message.role === 'user' ? calls : new Map<string, string>();
    const blocks = blocksOf(message);
    const made = checkMessage(message, index, previous, claude);
    const results = blocks.flatMap((block) => (isRecord(block.toolResult) ? [block.toolResult] : []));
    if (claude && message.role === 'user' && previous.size > results.length) {
      const missing = [...previous.keys()].filter((id) => !results.some((result) => result.toolUseId === id));
      throw fromModel(
        `messages.${index - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      );
    }
    if (made.size > 0 || results.length > 0) toolBlocks = true;
    if (message.role === 'user') {
      toolResults =
        results.length > 0
          ? results.map((result) => ({
              name: previous.get(String(result.toolUseId)),
              content: textOf(blocksOf(result)),
              isError: result.status === 'error',
            }))
          : undefined;
      if (!toolResults) {
        lastUserText = textOf(blocks);
        media = mediaOf(blocks);
      }
    }
    calls = made;
  });
  if (toolBlocks && !isRecord(body.toolConfig)) {
    throw new ConverseRefusal(
      'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
    );
  }
  const system = Array.isArray(body.system)
    ? textOf(body.system.filter((block): block is Json => isRecord(block)))
    : '';
  const endsWithUser = messages.at(-1)?.role === 'user';
  const turn: Turn = {
    key: JSON.stringify([modelId, body.system ?? null, messages]),
    lastUserText,
    toolResults: endsWithUser ? toolResults : undefined,
    tools,
    toolChoice: tools.length > 0 ? readChoice(body, modelId, claude && thinking) : 'none',
    responseFormat: readResponseFormat(body, claude),
    reasoning: thinking,
    media,
  };
  return {
    turn,
    promptText: system + messages.map((message) => textOf(blocksOf(message))).join('\n'),
    claude,
  };
}
