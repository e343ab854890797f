/** The emulator's SigV4 verifier against the known answers of AWS's published SigV4 test suite. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { SUITE, SUITE_CASES, type SuiteCase } from '../test-support/sigv4-suite.ts';
import { checkSignature } from './bedrock-signature.ts';
import type { Exchange } from './exchange.ts';

/** The parts of an exchange the verifier reads, for the request a suite case describes. */
function exchangeFor(suiteCase: SuiteCase, body = suiteCase.body ?? ''): Exchange {
  const req = {
    method: suiteCase.method,
    url: suiteCase.path,
    headers: { host: SUITE.host, 'x-amz-date': SUITE.amzDate, ...suiteCase.headers },
  } as unknown as IncomingMessage;
  return { req, rawBody: body, awsCredentials: [SUITE.credentials] } as unknown as Exchange;
}

const verify = (exchange: Exchange, authorization: string) =>
  checkSignature(exchange, authorization, SUITE.signingDate.getTime(), SUITE.service);

for (const suiteCase of SUITE_CASES) {
  test(`AWS SigV4 test suite, ${suiteCase.name}: the emulator accepts AWS's signature, and only it`, async () => {
    assert.deepEqual(await verify(exchangeFor(suiteCase), suiteCase.authorization), {
      ok: true,
      accessKeyId: SUITE.credentials.accessKeyId,
    });
    const last = suiteCase.authorization.at(-1) === '0' ? '1' : '0';
    const forged = `${suiteCase.authorization.slice(0, -1)}${last}`;
    const rejected = await verify(exchangeFor(suiteCase), forged);
    assert.equal(rejected.ok, false);
    assert.equal(!rejected.ok && rejected.name, 'InvalidSignatureException');
    const tampered = await verify(exchangeFor(suiteCase, 'Param1=value2'), suiteCase.authorization);
    assert.equal(tampered.ok, false, 'a different body does not verify');
  });
}

test('the emulator requires the bedrock signing name by default', async () => {
  const [vanilla] = SUITE_CASES;
  const verdict = await checkSignature(
    exchangeFor(vanilla!),
    vanilla!.authorization,
    SUITE.signingDate.getTime(),
  );
  assert.deepEqual(verdict, {
    ok: false,
    name: 'InvalidSignatureException',
    message: "Credential should be scoped to correct service: 'bedrock'. ",
  });
});
