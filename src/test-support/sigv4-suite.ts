/**
 * Known answers from AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite), as the
 * AWS SDK's own signer tests carry them (smithy-lang/smithy-typescript,
 * packages/signature-v4/src/suite.fixture.ts): the credentials, region, service and time every case
 * uses, and each case's request with the `Authorization` header AWS computed for it.
 */
export const SUITE = {
  credentials: {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  },
  region: 'us-east-1',
  service: 'service',
  signingDate: new Date('2015-08-30T12:36:00Z'),
  amzDate: '20150830T123600Z',
  host: 'example.amazonaws.com',
};

export interface SuiteCase {
  name: string;
  method: 'GET' | 'POST';
  /** Path and query, as sent. */
  path: string;
  /** Headers besides `host` and `x-amz-date`. */
  headers: Record<string, string>;
  body?: string;
  authorization: string;
}

const scope = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

export const SUITE_CASES: readonly SuiteCase[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    path: '/',
    headers: {},
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    path: '/',
    headers: {},
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    path: '/?Param2=value2&Param1=value1',
    headers: {},
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    authorization: `AWS4-HMAC-SHA256 ${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a`,
  },
];
