/**
 * The gateway's endpoints as the fuzz test drives them: where each lives, which protocol's error shape it
 * answers in, its valid bodies and required fields; the keys a case may present; and the check every answer
 * must pass (never a 5xx; an error in its protocol's shape; a 2xx that is whole).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRecord } from '../validate-body.ts';
import type { Answer, FuzzGateway, Outgoing } from './fuzz-gateway.ts';
import { MASTER_KEY } from './fuzz-gateway.ts';
import type { MalformedBody } from './fuzz-malformed.ts';
import {
  type Json,
  validAdminKey,
  validChat,
  validCountTokens,
  validEmbeddings,
  validMessages,
} from './fuzz-valid.ts';

export type Protocol = 'openai' | 'anthropic';

export interface Endpoint {
  name: string;
  path: string;
  protocol: Protocol;
  valid: fc.Arbitrary<{ [key: string]: Json }>;
  required: readonly string[];
  /** The admin API takes only the master key. */
  masterOnly?: boolean;
}

export const ENDPOINTS: readonly Endpoint[] = [
  {
    name: 'chat completions',
    path: '/v1/chat/completions',
    protocol: 'openai',
    valid: validChat,
    required: ['model', 'messages'],
  },
  {
    name: 'embeddings',
    path: '/v1/embeddings',
    protocol: 'openai',
    valid: validEmbeddings,
    required: ['model', 'input'],
  },
  {
    name: 'messages',
    path: '/v1/messages',
    protocol: 'anthropic',
    valid: validMessages,
    required: ['model', 'messages', 'max_tokens'],
  },
  {
    name: 'count tokens',
    path: '/v1/messages/count_tokens',
    protocol: 'anthropic',
    valid: validCountTokens,
    required: ['model', 'messages'],
  },
  {
    name: 'admin keys',
    path: '/admin/keys',
    protocol: 'openai',
    valid: validAdminKey,
    required: ['name'],
    masterOnly: true,
  },
];

/** The protocol whose error shape a path answers in. */
export const protocolOf = (path: string): Protocol =>
  path.startsWith('/v1/messages') ? 'anthropic' : 'openai';

/** Virtual keys the fuzz presents beside the master key. */
export interface Keys {
  /** No limit that a fuzz run could reach. */
  open: string;
  /** May use the `openai` model only. */
  narrow: string;
}

/** How a case authenticates: mostly with a key that gets it past auth, sometimes not. */
export function authHeaders(keys: Keys): fc.Arbitrary<Record<string, string>> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ authorization: `Bearer ${MASTER_KEY}` }) },
    { weight: 4, arbitrary: fc.constant({ 'x-api-key': keys.open }) },
    { weight: 1, arbitrary: fc.constant({ authorization: `Bearer ${keys.narrow}` }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Record<string, string>>(
        {},
        { authorization: 'Bearer llmf-not-a-real-key' },
        { authorization: 'Bearer ' },
        { authorization: 'Basic dXNlcjpwYXNz' },
        { 'x-api-key': '' },
        { authorization: `Bearer ${'k'.repeat(8_000)}` },
      ),
    },
  );
}

/** Content types a client may send: the gateway reads JSON whatever the header says. */
export const contentTypes: fc.Arbitrary<Record<string, string>> = fc.constantFrom<Record<string, string>>(
  { 'content-type': 'application/json' },
  {},
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/json; charset=utf-8' },
  { 'content-type': 'application/x-www-form-urlencoded' },
  { 'content-type': 'multipart/form-data; boundary=x' },
);

/** A request for `body`, its bytes sent whole (content-length) or in chunks (transfer-encoding: chunked). */
export function outgoing(
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  chunked: boolean,
): Outgoing {
  if (!chunked) return { method: 'POST', path, headers, body };
  const half = Math.floor(body.length / 2);
  return { method: 'POST', path, headers, body, chunks: [body.subarray(0, half), body.subarray(half)] };
}

function describeCase(
  kind: string,
  request: Outgoing,
  answer: Answer | undefined,
  gateway: FuzzGateway,
): string {
  const shown = request.body ? request.body.subarray(0, 600).toString('utf8') : '';
  return [
    `case: ${kind}`,
    `request: ${request.method} ${request.path} ${JSON.stringify(request.headers).slice(0, 300)}`,
    `body (${request.body?.length ?? 0} bytes): ${shown}`,
    answer ? `answer: ${answer.status} ${answer.text.slice(0, 600)}` : 'answer: none',
    `gateway ${gateway.alive() ? 'alive' : 'DEAD'}; its error log ends: ${gateway.stderr().slice(-1_500)}`,
  ].join('\n');
}

/** An error body in `protocol`'s shape: OpenAI's `{ error: { message, type, code } }`, Anthropic's `{ type: 'error', error }`. */
export function isErrorShape(protocol: Protocol, text: string): boolean {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (!isRecord(body) || !isRecord(body.error)) return false;
  const { error } = body;
  if (typeof error.message !== 'string' || typeof error.type !== 'string') return false;
  return protocol === 'openai' ? 'code' in error : body.type === 'error';
}

/** A 2xx that is whole: JSON that parses, or a stream that ended as its protocol ends one. */
function isWhole(protocol: Protocol, answer: Answer): boolean {
  const type = String(answer.headers['content-type'] ?? '');
  if (type.startsWith('text/event-stream')) {
    if (/"type":"error"|^data: \{"error"/m.test(answer.text)) return false;
    return protocol === 'openai'
      ? answer.text.trimEnd().endsWith('data: [DONE]')
      : answer.text.includes('event: message_stop');
  }
  try {
    return isRecord(JSON.parse(answer.text));
  } catch {
    return false;
  }
}

export type Expectation = MalformedBody['expect'] | 'success';

/** Sends one case and checks its answer; a failure names the case, the answer and the gateway's log. */
export async function check(
  gateway: FuzzGateway,
  kind: string,
  request: Outgoing,
  expect: Expectation,
): Promise<Answer> {
  let answer: Answer | undefined;
  try {
    answer = await gateway.send(request);
  } catch (error) {
    assert.fail(
      `no answer (${(error as Error).message})\n${describeCase(kind, request, undefined, gateway)}`,
    );
  }
  const protocol = protocolOf(request.path);
  const explain = () => describeCase(kind, request, answer, gateway);
  assert.ok(answer.status < 500, `a ${answer.status}\n${explain()}`);
  if (expect === 'success') assert.ok(answer.status < 300, `a valid body refused\n${explain()}`);
  if (expect === 'client-error') assert.ok(answer.status >= 400, `a bad body accepted\n${explain()}`);
  if (answer.status >= 400)
    assert.ok(isErrorShape(protocol, answer.text), `not ${protocol}'s error shape\n${explain()}`);
  else assert.ok(isWhole(protocol, answer), `a 2xx that is not whole\n${explain()}`);
  return answer;
}
