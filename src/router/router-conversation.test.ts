/**
 * The router takes code written for a client unchanged, whole conversations included: generateObject,
 * streamObject and runTools fall back like completions; a native body passes through the deployment chosen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { tool } from '../client/tool-loop.ts';
import { anthropicAt, chats, emulators, openaiAt, routerFor } from './test-support/rig.ts';

const Person = z.object({ name: z.string(), age: z.number().int() });

test('generateObject falls back from a failing deployment and says where the answer came from', async (t) => {
  const [down, up] = await emulators(t, { fault: 'unavailable' }, {});
  const router = routerFor(t, {
    deployments: [openaiAt('primary', down!), anthropicAt('backup', up!)],
    groups: { chat: ['primary', 'backup'] },
  });
  const { object, result } = await router.generateObject({
    model: 'chat',
    schema: Person,
    prompt: 'a person',
  });
  assert.equal(Person.safeParse(object).success, true);
  assert.equal(result.route?.deployment, 'backup');
  assert.deepEqual(
    result.route?.attempts.map((attempt) => [attempt.deployment, attempt.error?.code]),
    [
      ['primary', 'server_error'],
      ['backup', undefined],
    ],
  );
});

test('streamObject falls back before its first partial object; the final event carries the route', async (t) => {
  const [down, up] = await emulators(t, { fault: 'rate-limit' }, {});
  const router = routerFor(t, {
    deployments: [openaiAt('primary', down!), openaiAt('backup', up!)],
    groups: { chat: ['primary', 'backup'] },
  });
  const events = [];
  for await (const event of router.streamObject({ model: 'chat', schema: Person, prompt: 'a person' }))
    events.push(event);
  const last = events.at(-1)!;
  assert.equal(last.type, 'object');
  assert.equal(last.type === 'object' && last.result.route?.deployment, 'backup');
  assert.ok(events.some((event) => event.type === 'partial'));
});

test('runTools routes every step on its own', async (t) => {
  const [emulator] = await emulators(t, {});
  const router = routerFor(t, { deployments: [openaiAt('only', emulator!)] });
  const run = await router.runTools({
    prompt: 'use lookup',
    tools: [tool({ name: 'lookup', parameters: z.object({ q: z.string() }), execute: () => 'found it' })],
  });
  assert.equal(run.steps.length, 2);
  assert.match(run.text, /found it/);
  assert.equal(run.result.route?.deployment, 'only');
});

test('models, pricing and protocols: what a gateway in front of the router needs', async (t) => {
  const [a, b] = await emulators(t, {}, {});
  const router = routerFor(t, {
    deployments: [openaiAt('gpt', a!), anthropicAt('claude', b!)],
    groups: { chat: ['gpt', 'claude'], fast: ['gpt'] },
  });
  assert.deepEqual(router.models().sort(), ['chat', 'claude', 'fast', 'gpt']);
  assert.deepEqual(router.pricedAs('chat'), { provider: 'openai', model: 'gpt-4o-mini' });
  assert.equal(router.speaks('fast', 'openai-chat'), true);
  assert.equal(router.speaks('chat', 'openai-chat'), false, 'not every deployment of chat speaks it');
});

test('forward: a native body through the chosen deployment, falling back before its response starts', async (t) => {
  const [down, up] = await emulators(t, { fault: 'server-error' }, {});
  const router = routerFor(t, {
    deployments: [openaiAt('primary', down!), openaiAt('backup', up!)],
    groups: { chat: ['primary', 'backup'] },
  });
  const { response, route, deployment } = await router.forward({
    model: 'chat',
    protocol: 'openai-chat',
    body: { model: 'chat', messages: [{ role: 'user', content: 'hello' }] },
    stream: false,
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
  assert.equal(JSON.parse(Buffer.concat(chunks).toString()).object, 'chat.completion');
  assert.equal(deployment.id, 'backup');
  assert.equal(route.attempts[0]?.error?.code, 'server_error');
  assert.equal(chats(up!), 1);
});
