import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { LLMConfigurationError } from './errors.ts';
import { crc32, type NodeFeature, nodeHas, requireNodeFeature, SUPPORTED_NODE } from './node-support.ts';

const FEATURES: NodeFeature[] = ['sqlite', 'crc32'];

describe('which Node has what', () => {
  test('node:sqlite without a flag: 22.13+ on the 22 line, 23.4+, and every later line', () => {
    for (const version of ['22.13.0', 'v22.13.1', '22.19.0', '23.4.0', '23.11.1', '24.0.0', '25.2.1']) {
      assert.equal(nodeHas('sqlite', version), true, version);
    }
    for (const version of ['20.18.0', '21.7.3', '22.5.0', '22.12.0', '23.0.0', '23.3.0']) {
      assert.equal(nodeHas('sqlite', version), false, version);
    }
  });

  test('zlib.crc32: 20.15+ on the 20 line, 22.2+, and every later line', () => {
    for (const version of ['20.15.0', '20.18.3', '22.2.0', '23.0.0', '24.21.0']) {
      assert.equal(nodeHas('crc32', version), true, version);
    }
    for (const version of ['18.20.4', '20.14.0', '21.7.3', '22.1.0']) {
      assert.equal(nodeHas('crc32', version), false, version);
    }
  });

  test('below the minimum, a configuration error that names the feature, the versions that have it and this one', () => {
    assert.throws(
      () => requireNodeFeature('sqlite', '22.12.0'),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        error.message ===
          'The SQLite cache needs `node:sqlite` without a flag: Node 22.13.0+ on the 22 line, or 23.4.0+ (this is Node 22.12.0; llm-factory supports Node ^22.19.0 || >=23.4.0)',
    );
    assert.throws(
      () => requireNodeFeature('crc32', '22.1.0'),
      /Bedrock streams need `zlib\.crc32`: Node 20\.15\.0\+ on the 20 line, or 22\.2\.0\+ \(this is Node 22\.1\.0/,
    );
    assert.doesNotThrow(() => requireNodeFeature('sqlite', '23.4.0'));
  });

  test('this Node has everything, and crc32 is zlib’s', () => {
    for (const feature of FEATURES) assert.doesNotThrow(() => requireNodeFeature(feature));
    assert.equal(crc32(Buffer.from('hello')), 907060870);
  });
});

describe('engines.node states the real minimum', () => {
  const engines = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
    }
  ).engines.node;

  test('package.json says what the library checks', () => {
    assert.equal(engines, SUPPORTED_NODE);
  });

  test('every lower bound it names has every feature; the version before each does not', () => {
    const bounds = [...SUPPORTED_NODE.matchAll(/(?:\^|>=)(\d+)\.(\d+)\.(\d+)/g)].map((match) =>
      match.slice(1).map(Number),
    );
    assert.deepEqual(bounds, [
      [22, 19, 0],
      [23, 4, 0],
    ]);
    for (const [major, minor, patch] of bounds) {
      for (const feature of FEATURES) assert.equal(nodeHas(feature, `${major}.${minor}.${patch}`), true);
    }
    // 23.4.0 is tight (node:sqlite); 22.19.0 is undici 8's own minimum, above what our features need.
    assert.equal(nodeHas('sqlite', '23.3.0'), false);
    const undici = JSON.parse(
      readFileSync(new URL('../../node_modules/undici/package.json', import.meta.url), 'utf8'),
    ) as {
      engines: { node: string };
    };
    assert.equal(undici.engines.node, '>=22.19.0', 'the dependency that sets the 22 line’s minimum');
  });
});
