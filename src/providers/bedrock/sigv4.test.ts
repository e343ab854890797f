/** Our SigV4 signing path against the known answers of AWS's published SigV4 test suite. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUITE, SUITE_CASES } from '../../test-support/sigv4-suite.ts';
import { createBedrockSigner, signBedrockRequest } from './sigv4.ts';

for (const suiteCase of SUITE_CASES) {
  test(`AWS SigV4 test suite, ${suiteCase.name}: our signer produces AWS's Authorization`, async () => {
    // The suite signs no payload-hash header: applyChecksum off, as AWS computed these.
    const signer = createBedrockSigner({
      credentials: SUITE.credentials,
      region: SUITE.region,
      service: SUITE.service,
      applyChecksum: false,
    });
    const signed = await signBedrockRequest(
      signer,
      {
        url: `https://${SUITE.host}${suiteCase.path}`,
        method: suiteCase.method,
        headers: suiteCase.headers,
        ...(suiteCase.body === undefined ? {} : { body: suiteCase.body }),
      },
      SUITE.signingDate,
    );
    assert.equal(signed.headers.authorization, suiteCase.authorization);
    assert.equal(signed.headers['x-amz-date'], SUITE.amzDate);
    assert.equal(signed.headers.host, SUITE.host);
  });
}

test('Bedrock signs as `bedrock`, with the payload hash, unless told otherwise', async () => {
  const signer = createBedrockSigner({ credentials: SUITE.credentials, region: SUITE.region });
  const signed = await signBedrockRequest(
    signer,
    { url: `https://${SUITE.host}/`, method: 'POST', headers: {}, body: '' },
    SUITE.signingDate,
  );
  assert.match(
    signed.headers.authorization ?? '',
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-east-1\/bedrock\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, /,
  );
  // SHA-256 of the empty body.
  assert.equal(
    signed.headers['x-amz-content-sha256'],
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
});
