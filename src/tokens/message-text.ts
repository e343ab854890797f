/**
 * The text of a message for counting, whatever its content's shape: a string, or parts whose text (and
 * tool calls' names and arguments) are joined. Images and files count nothing here; callers that bill them
 * add their own estimate.
 */

/** A part as counting sees it (text and reasoning have `text`; tool calls have `name` and `arguments`). */
export interface CountablePart {
  type: string;
  text?: string;
  name?: string;
  arguments?: string;
}

export interface CountableMessage {
  role: string;
  content: string | readonly CountablePart[];
  name?: string | undefined;
}

export function contentText(content: CountableMessage['content']): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) {
    if (part.text !== undefined) text += part.text;
    else if (part.type === 'tool-call') text += (part.name ?? '') + (part.arguments ?? '');
  }
  return text;
}
