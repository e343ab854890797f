/**
 * The Node versions llm-factory runs on, and a clear `LLMConfigurationError` where a feature it needs is
 * missing, instead of a cache silently left off or a `SyntaxError` at import.
 *
 * `engines.node` in package.json says the same as `SUPPORTED_NODE` (a test keeps them equal): 22.19+ on
 * the 22 line — undici 8's own minimum, above 22.13 (`node:sqlite` without a flag) and 22.2 (`zlib.crc32`)
 * — or 23.4+ (`node:sqlite` without a flag), or any later line.
 */
import * as zlib from 'node:zlib';
import { LLMConfigurationError } from './errors.ts';

export const SUPPORTED_NODE = '^22.19.0 || >=23.4.0';

/** What each feature needs: the first version that has it on each release line, oldest line first. */
const FEATURES = {
  sqlite: { what: 'The SQLite cache needs `node:sqlite` without a flag', since: ['22.13.0', '23.4.0'] },
  crc32: { what: 'Bedrock streams need `zlib.crc32`', since: ['20.15.0', '22.2.0'] },
} as const;

export type NodeFeature = keyof typeof FEATURES;

type Version = [major: number, minor: number, patch: number];

function parse(version: string): Version {
  const [major = 0, minor = 0, patch = 0] = version
    .replace(/^v/, '')
    .split(/[.-]/)
    .map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor, patch];
}

function atLeast(version: Version, minimum: Version): boolean {
  for (let i = 0; i < 3; i++) {
    if (version[i]! !== minimum[i]!) return version[i]! > minimum[i]!;
  }
  return true;
}

/** True when Node `version` (default: this one) has `feature`. */
export function nodeHas(feature: NodeFeature, version: string = process.versions.node): boolean {
  const current = parse(version);
  const lines = FEATURES[feature].since.map(parse);
  const sameLine = lines.find(([major]) => major === current[0]);
  if (sameLine) return atLeast(current, sameLine);
  return current[0] > lines.at(-1)![0];
}

/** The error for a Node without `feature`, saying which versions have it. */
export function nodeFeatureError(
  feature: NodeFeature,
  version: string = process.versions.node,
): LLMConfigurationError {
  const { what, since } = FEATURES[feature];
  const versions = since.map((first, i) =>
    i < since.length - 1 ? `${first}+ on the ${parse(first)[0]} line` : `${first}+`,
  );
  return new LLMConfigurationError(
    `${what}: Node ${versions.join(', or ')} (this is Node ${version}; llm-factory supports Node ${SUPPORTED_NODE})`,
  );
}

/** Throws `nodeFeatureError` when Node `version` (default: this one) lacks `feature`. */
export function requireNodeFeature(feature: NodeFeature, version: string = process.versions.node): void {
  if (!nodeHas(feature, version)) throw nodeFeatureError(feature, version);
}

/**
 * `zlib.crc32`, read from the module namespace so that a Node without it can still import the library;
 * there, checking a Bedrock stream throws `nodeFeatureError('crc32')`.
 */
export const crc32: (data: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? zlib.crc32
    : () => {
        throw nodeFeatureError('crc32');
      };
