/**
 * Embeddings through a router never mix vector spaces: a call balances and falls back only among
 * deployments with the same embedding model and dimensions as the group's first, and fails with a typed
 * error rather than answer from another model.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Emulator } from '../emulator/index.ts';
import { emulators, openaiAt, rejection, routerFor } from './test-support/rig.ts';

const embeds = (emulator: Emulator) =>
  emulator.requests.filter((request) => request.path.includes('/embeddings')).length;

const small = (id: string, emulator: Emulator, dimensions?: number) =>
  openaiAt(id, emulator, { model: 'openai/text-embedding-3-small', ...(dimensions ? { dimensions } : {}) });
const large = (id: string, emulator: Emulator) =>
  openaiAt(id, emulator, { model: 'openai/text-embedding-3-large' });

describe('router: embeddings stay in one vector space', () => {
  test('a failing deployment falls back to one with the same model, never to another model', async (t) => {
    const [failing, other, same] = await emulators(t, { fault: 'server-error' }, {}, {});
    const router = routerFor(t, {
      deployments: [small('small-eu', failing!), large('large', other!), small('small-us', same!)],
      groups: { embed: ['small-eu', 'large', 'small-us'] },
    });
    const vectors = await router.generateEmbeddings(['first', 'second'], { model: 'embed' });
    assert.equal(vectors.length, 2);
    assert.equal(vectors[0]?.length, 1536);
    assert.equal(embeds(other!), 0);
    assert.equal(embeds(same!), 1);
  });

  test('embed says which deployment answered, what was tried, and what the answer cost', async (t) => {
    const [failing, same] = await emulators(t, { fault: 'server-error' }, {});
    const router = routerFor(t, {
      deployments: [small('small-eu', failing!), small('small-us', same!)],
      groups: { embed: ['small-eu', 'small-us'] },
    });
    const result = await router.embed(['first', 'second'], { model: 'embed' });
    assert.equal(result.embeddings.length, 2);
    assert.equal(result.route?.deployment, 'small-us');
    assert.deepEqual(
      result.route?.attempts.map((attempt) => attempt.deployment),
      ['small-eu', 'small-us'],
    );
    assert.ok((result.usage?.inputTokens ?? 0) > 0, 'the provider’s count');
    assert.ok((result.usage?.costUsd ?? 0) > 0, 'priced from the table');
  });

  test('with no deployment of the same space left, the call fails, typed, rather than answer from another model', async (t) => {
    const [failing, other] = await emulators(t, { fault: 'server-error' }, {});
    const router = routerFor(t, {
      deployments: [small('small', failing!), large('large', other!)],
      groups: { embed: ['small', 'large'] },
    });
    const error = await rejection(router.generateEmbeddings(['text'], { model: 'embed' }));
    assert.equal(error.code, 'server_error');
    assert.equal(error.route?.deployment, 'small');
    assert.equal(embeds(other!), 0);
  });

  test('the group’s space is its first deployment’s, even while that one is cooling', async (t) => {
    const [primary, other] = await emulators(t, { apiKeys: ['another-key-not-real'] }, {});
    const router = routerFor(t, {
      deployments: [small('small', primary!), large('large', other!)],
      groups: { embed: ['small', 'large'] },
      maxWaitMs: 0,
    });
    assert.equal(
      (await rejection(router.generateEmbeddings(['a'], { model: 'embed' }))).code,
      'authentication',
    );
    const error = await rejection(router.generateEmbeddings(['b'], { model: 'embed' }));
    assert.equal(error.code, 'rate_limit', 'cooling, and nothing else serves its space');
    assert.equal(embeds(other!), 0);
  });

  test('dimensions are part of the space: 256-dimension vectors never fall back to full-size ones', async (t) => {
    const [shortened, full] = await emulators(t, { fault: 'unavailable' }, {});
    const router = routerFor(t, {
      deployments: [small('small-256', shortened!, 256), small('small-1536', full!)],
      groups: { embed: ['small-256', 'small-1536'] },
    });
    await rejection(router.generateEmbeddings(['text'], { model: 'embed' }));
    assert.equal(embeds(full!), 0);
    shortened!.setFault(undefined);
    const [vector] = await router.generateEmbeddings(['text'], { model: 'embed' });
    assert.equal(vector?.length, 256, 'the deployment’s dimensions are sent');
  });

  test('calls balance across deployments of the same space', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, {
      deployments: [small('a', a!), small('b', b!)],
      strategy: 'weighted',
      defaultEmbeddingModel: 'a',
      groups: { embed: ['a', 'b'] },
    });
    for (let i = 0; i < 30; i++) await router.generateEmbeddings([`text ${i}`], { model: 'embed' });
    assert.ok(embeds(a!) > 0 && embeds(b!) > 0, `${embeds(a!)} / ${embeds(b!)}`);
    await router.generateEmbeddings(['default target']);
    assert.equal(embeds(a!) + embeds(b!), 31);
  });
});
