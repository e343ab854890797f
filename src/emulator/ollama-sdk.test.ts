/**
 * The official `ollama` npm client, pointed at the emulator, works unchanged — and so does ours. The
 * emulator's bodies have the shapes of the recorded ones in test/fixtures/ollama.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ollama } from 'ollama';
import { LLMClientFactory } from '../client/factory.ts';
import { fixtureJson, fixtureText } from '../test-support/fixtures.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
});

const keys = (value: unknown) => Object.keys(value as object).sort();
const norm = (vector: readonly number[]) => Math.hypot(...vector);
const question = [{ role: 'user', content: 'Why is the sky blue?' }];

async function post(path: string, body: unknown): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

describe('official ollama client against the emulator', () => {
  test('chat, not streamed: message, done_reason, counts and durations', async () => {
    const ollama = new Ollama({ host: emulator.url });
    const response = await ollama.chat({ model: 'llama3.2', messages: question });
    assert.equal(response.message.role, 'assistant');
    assert.ok(response.message.content.startsWith('You asked: “Why is the sky blue?”.'));
    assert.equal(response.done, true);
    assert.equal(response.done_reason, 'stop');
    assert.ok(response.prompt_eval_count > 0 && response.eval_count > 0);
    for (const field of [
      'total_duration',
      'load_duration',
      'prompt_eval_duration',
      'eval_duration',
    ] as const) {
      assert.ok(Number.isInteger(response[field]) && response[field] >= 0, `${field} in nanoseconds`);
    }
    assert.ok(response.total_duration >= response.load_duration);

    const cut = await ollama.chat({ model: 'llama3.2', messages: question, options: { num_predict: 5 } });
    assert.equal(cut.done_reason, 'length');
    assert.ok(cut.eval_count > 0 && cut.eval_count <= 5, 'cut within num_predict');
    assert.ok(response.message.content.startsWith(cut.message.content));
  });

  test('chat, streamed: the same text piece by piece, then a done object with the counts', async () => {
    const ollama = new Ollama({ host: emulator.url });
    const whole = await ollama.chat({ model: 'llama3.2', messages: question });
    let text = '';
    let pieces = 0;
    let last: Awaited<ReturnType<typeof ollama.chat>> | undefined;
    for await (const part of await ollama.chat({ model: 'llama3.2', messages: question, stream: true })) {
      text += part.message.content;
      pieces++;
      last = part;
    }
    assert.equal(text, whole.message.content);
    assert.ok(pieces > 3);
    assert.equal(last?.done, true);
    assert.equal(last?.done_reason, 'stop');
    assert.equal(last?.eval_count, whole.eval_count);
    assert.equal(last?.prompt_eval_count, whole.prompt_eval_count);
  });

  test('a mid-stream error line reaches the official client as its error', async () => {
    const ollama = new Ollama({ host: emulator.url, headers: { 'x-emulator-fault': 'stream-error' } });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const part of await ollama.chat({ model: 'llama3.2', messages: question, stream: true }))
          text += part.message.content;
      })(),
      /an error was encountered while running the model/,
    );
    assert.ok(text.length > 0, 'two pieces came before the error');
  });

  test('embed: unit vectors of the model’s dimension, the same for the same text', async () => {
    const ollama = new Ollama({ host: emulator.url });
    const nomic = await ollama.embed({ model: 'nomic-embed-text', input: ['a', 'b'] });
    assert.equal(nomic.model, 'nomic-embed-text');
    assert.equal(nomic.embeddings.length, 2);
    assert.equal(nomic.embeddings[0]?.length, 768);
    assert.ok(Math.abs(norm(nomic.embeddings[0]!) - 1) < 1e-5, 'unit length');
    assert.notDeepEqual(nomic.embeddings[0], nomic.embeddings[1]);
    assert.ok(nomic.prompt_eval_count > 0);
    const mxbai = await ollama.embed({ model: 'mxbai-embed-large', input: 'a' });
    assert.equal(mxbai.embeddings[0]?.length, 1024);
    const other = await ollama.embed({ model: 'all-minilm', input: 'a' });
    assert.equal(other.embeddings[0]?.length, 768);
    const again = await ollama.embed({ model: 'nomic-embed-text', input: 'a' });
    assert.deepEqual(again.embeddings[0], nomic.embeddings[0]);
    const shorter = await ollama.embed({ model: 'nomic-embed-text', input: 'a', dimensions: 256 });
    assert.equal(shorter.embeddings[0]?.length, 256);
  });

  test('list, version and show', async () => {
    const ollama = new Ollama({ host: emulator.url });
    const list = await ollama.list();
    const names = list.models.map((model) => model.name);
    assert.ok(names.includes('llama3.2:latest') && names.includes('nomic-embed-text:latest'));
    assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+$/);
    const shown = await ollama.show({ model: 'nomic-embed-text' });
    assert.deepEqual(shown.capabilities, ['embedding']);
    assert.equal(shown.details.format, 'gguf');
    const served = await startEmulator({ models: ['qwen3:8b'] });
    const only = await new Ollama({ host: served.url }).list();
    assert.deepEqual(
      only.models.map((model) => model.name),
      ['qwen3:8b'],
    );
    await served.close();
  });

  test('a model the server does not have: a 404 ResponseError with Ollama’s wording', async () => {
    const served = await startEmulator({ models: ['llama3.2'] });
    const ollama = new Ollama({ host: served.url });
    await assert.rejects(
      ollama.chat({ model: 'gemma3:12b', messages: question }),
      (error: unknown) =>
        (error as { status_code?: number }).status_code === 404 &&
        (error as Error).message === 'model "gemma3:12b" not found, try pulling it first',
    );
    await assert.rejects(ollama.embed({ model: 'bge-m3', input: 'x' }), /model "bge-m3" not found/);
    await served.close();
  });

  test('keys: with keys set, the client’s Authorization header is checked', async () => {
    const guarded = await startEmulator({ apiKeys: ['ollama-key'] });
    await assert.rejects(
      new Ollama({ host: guarded.url }).list(),
      (error: unknown) => (error as { status_code?: number }).status_code === 401,
    );
    const ollama = new Ollama({ host: guarded.url, headers: { Authorization: 'Bearer ollama-key' } });
    assert.ok((await ollama.list()).models.length > 0);
    await guarded.close();
  });
});

describe('the emulator on the wire', () => {
  test('stream defaults to true when absent, as on the real server; NDJSON content type', async () => {
    const streamed = await post('/api/chat', { model: 'llama3.2', messages: question });
    assert.equal(streamed.type, 'application/x-ndjson');
    const lines = streamed.text.trim().split('\n');
    assert.ok(lines.length > 3);
    assert.equal((JSON.parse(lines.at(-1)!) as { done: boolean }).done, true);
    const single = await post('/api/chat', { model: 'llama3.2', messages: question, stream: false });
    assert.equal(single.type, 'application/json; charset=utf-8');
    assert.equal(single.text.split('\n').length, 1);
  });

  test('bodies have the recorded shapes (keys of the captured and documented objects)', async () => {
    const streamed = await post('/api/chat', { model: 'llama3.2', messages: question });
    const lines = streamed.text.trim().split('\n');
    const captured = fixtureText('ollama', 'api-chat.stream.captured.llama3.ndjson').trim().split('\n');
    assert.deepEqual(keys(JSON.parse(lines[0]!)), keys(JSON.parse(captured[0]!)));
    assert.deepEqual(keys(JSON.parse(lines.at(-1)!)), keys(JSON.parse(captured.at(-1)!)));

    const single = JSON.parse(
      (await post('/api/chat', { model: 'llama3.2', messages: question, stream: false })).text,
    );
    assert.deepEqual(keys(single), keys(fixtureJson('ollama', 'api-chat.nonstream.captured.qwen2.5vl.json')));

    const embedded = JSON.parse(
      (await post('/api/embed', { model: 'all-minilm', input: 'Why is the sky blue?' })).text,
    );
    assert.deepEqual(keys(embedded), keys(fixtureJson('ollama', 'doc.api-embed.json')));

    const tags = (await (await fetch(`${emulator.url}/api/tags`)).json()) as { models: unknown[] };
    const documented = fixtureJson<{ models: Array<{ details: unknown }> }>('ollama', 'doc.api-tags.json');
    assert.deepEqual(keys(tags.models[0]), keys(documented.models[0]));
    assert.deepEqual(
      keys((tags.models[0] as { details: unknown }).details),
      keys(documented.models[0]!.details),
    );
    const version = await (await fetch(`${emulator.url}/api/version`)).json();
    assert.deepEqual(keys(version), keys(fixtureJson('ollama', 'doc.api-version.json')));
  });

  test('Go’s JSON escaping of < > &, decoded back by the clients', async () => {
    const raw = await post('/api/chat', {
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'is <b> & </b> html?' }],
      stream: false,
    });
    assert.match(raw.text, /\\u003cb\\u003e \\u0026 \\u003c\/b\\u003e/);
    assert.doesNotMatch(raw.text, /<b>/);
    const ollama = new Ollama({ host: emulator.url });
    const response = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'is <b> & </b> html?' }],
    });
    assert.ok(response.message.content.includes('<b> & </b>'));
  });

  test('an empty chat loads the model; keep_alive 0 unloads it; an embedding model cannot chat', async () => {
    const load = JSON.parse(
      (await post('/api/chat', { model: 'llama3.2', messages: [], stream: false })).text,
    );
    assert.deepEqual(
      { reason: load.done_reason, content: load.message.content },
      { reason: 'load', content: '' },
    );
    const unload = JSON.parse((await post('/api/chat', { model: 'llama3.2', keep_alive: 0 })).text.trim());
    assert.equal(unload.done_reason, 'unload');
    const refused = await post('/api/chat', { model: 'nomic-embed-text', messages: question });
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.text), { error: '"nomic-embed-text" does not support chat' });
  });

  test('errors are {"error": …}; unknown routes get gin’s plain-text 404; / says Ollama is running', async () => {
    assert.deepEqual(await post('/api/chat', { messages: question }), {
      status: 400,
      type: 'application/json; charset=utf-8',
      text: '{"error":"model is required"}',
    });
    const unknown = await fetch(`${emulator.url}/api/nope`);
    assert.equal(unknown.status, 404);
    assert.equal(await unknown.text(), '404 page not found');
    const root = await fetch(`${emulator.url}/`);
    assert.equal(await root.text(), 'Ollama is running');
    const truncated = await post('/api/embed', {
      model: 'mxbai-embed-large',
      input: ['word '.repeat(600)],
      truncate: false,
    });
    assert.equal(truncated.status, 400, 'mxbai-embed-large takes 512 tokens');
    assert.deepEqual(JSON.parse(truncated.text), { error: 'the input length exceeds the context length' });
  });
});

describe('our client against the emulator', () => {
  test('complete, stream, generateCompletion, embeddings and counts agree with the official client', async () => {
    const factory = new LLMClientFactory({ env: { OLLAMA_HOST: new URL(emulator.url).host } });
    const ours = factory.createClient('ollama');
    const ollama = new Ollama({ host: emulator.url });
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'What is an LLM?' },
    ];
    const result = await ours.complete({ messages });
    const theirs = await ollama.chat({ model: 'llama3.2', messages });
    assert.equal(result.text, theirs.message.content);
    assert.equal(result.provider, 'ollama');
    assert.equal(result.model, 'llama3.2');
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.usage.inputTokens, theirs.prompt_eval_count);
    assert.equal(result.usage.outputTokens, theirs.eval_count);

    let streamed = '';
    let finish: { finishReason: string; usage: { outputTokens: number } } | undefined;
    for await (const event of ours.stream({ messages })) {
      if (event.type === 'text-delta') streamed += event.text;
      if (event.type === 'finish') finish = event;
    }
    assert.equal(streamed, result.text);
    assert.equal(finish?.finishReason, 'stop');
    assert.equal(finish?.usage.outputTokens, result.usage.outputTokens);
    assert.equal(await ours.generateCompletion('What is an LLM?', { system: 'Be brief.' }), result.text);

    const cut = await ours.complete({ messages, maxTokens: 4, stop: ['never'] });
    assert.equal(cut.finishReason, 'length');
    assert.ok(cut.usage.outputTokens > 0 && cut.usage.outputTokens <= 4, 'cut at a word within 4 tokens');
    const stopped = await ours.complete({ messages, stop: ['LLM'] });
    assert.ok(!stopped.text.includes('LLM') && stopped.text.length > 0, 'cut at the stop sequence');

    const vectors = await ours.generateEmbeddings(['First document', 'Second document'], { batchSize: 1 });
    const reference = await ollama.embed({
      model: 'nomic-embed-text',
      input: ['First document', 'Second document'],
    });
    assert.deepEqual(vectors, reference.embeddings, 'input order kept across batches');
    const [large] = await ours.generateEmbeddings(['x'], { model: 'mxbai-embed-large' });
    assert.equal(large?.length, 1024);

    const count = ours.countTokens('Explain quantum computing in simple terms');
    assert.ok(count > 0);
    const request = await ours.countRequestTokens({ messages });
    assert.deepEqual({ exact: request.exact, source: request.source }, { exact: false, source: 'estimate' });
    assert.ok(request.inputTokens > 0);
    await factory.close();
  });
});
