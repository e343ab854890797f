/**
 * The gateway's access line is built only when its logger writes info: a logger set to warn gets none of
 * them (and is asked first), one at info gets one per request with its endpoint and status.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { startEmulator } from '../emulator/index.ts';
import { collectingLogger } from '../middleware/test-support/harness.ts';
import { gatewayConfigFrom } from './config.ts';
import { startGateway } from './server.ts';
import { emulatorDeployments, MASTER_KEY, tempFolder } from './test-support/keys-rig.ts';

async function modelsThrough(t: TestContext, logger: ReturnType<typeof collectingLogger>): Promise<void> {
  const emulator = await startEmulator();
  const config = gatewayConfigFrom({
    masterKey: MASTER_KEY,
    state: { sqlite: join(tempFolder(t), 'gateway.sqlite') },
    deployments: emulatorDeployments(emulator.url),
  });
  const gateway = await startGateway({ config, port: 0, logger });
  t.after(async () => {
    await gateway.close();
    await emulator.close();
  });
  const response = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: `Bearer ${MASTER_KEY}` },
  });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
}

test('a logger at warn is asked, and gets no access line', async (t) => {
  const logger = collectingLogger(['warn', 'error']);
  await modelsThrough(t, logger);
  assert.ok(logger.levelChecks.includes('info'));
  assert.deepEqual(
    logger.lines.filter((line) => line.message === 'request'),
    [],
  );
});

test('a logger at info gets one access line a request', async (t) => {
  const logger = collectingLogger();
  await modelsThrough(t, logger);
  const lines = logger.lines.filter((line) => line.message === 'request');
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 'info');
  assert.equal(lines[0]!.object.endpoint, 'models');
  assert.equal(lines[0]!.object.status, 200);
});
