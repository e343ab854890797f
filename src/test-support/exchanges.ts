/** Recorded HTTP exchanges (`exchange.*.json`) turned into replies for the replay server. */
import type { Reply } from './replay-server.ts';

export interface RecordedExchange {
  request: { method: string; uri?: string; url?: string; headers?: Record<string, string>; body?: unknown };
  response: {
    status?: number;
    status_code?: number;
    headers?: Record<string, string | string[]>;
    body: unknown;
  };
}

// Bodies were stored decoded and whole: the encoding and framing headers no longer describe them.
const DROP = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export function replyFromRecorded(response: RecordedExchange['response']): Reply {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (DROP.has(name.toLowerCase())) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
  return { status: response.status ?? response.status_code ?? 200, headers, body };
}

/** Path and query of a recorded request URL, with the double slash old SDKs produced folded. */
export function recordedPath(request: RecordedExchange['request']): string {
  const url = new URL((request.uri ?? request.url)!);
  return url.pathname.replace(/\/{2,}/g, '/') + url.search;
}

/** An independent reading of an OpenAI-style SSE body: choice 0's text, for checking our decoder. */
export function oracleStreamText(sse: string): string {
  let text = '';
  for (const line of sse.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]' || data === '') continue;
    const chunk = JSON.parse(data) as {
      choices?: Array<{ index?: number; delta?: { content?: string; refusal?: string }; text?: string }>;
    };
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      text += choice.delta?.content || choice.delta?.refusal || choice.text || '';
    }
  }
  return text;
}
