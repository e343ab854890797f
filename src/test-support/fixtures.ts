/** Access to the recorded provider payloads the repository keeps in `test/fixtures/` (origins in its SOURCES.md). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** Fails loudly when the fixtures are missing: a test that silently skips proves nothing. */
function root(): string {
  if (!existsSync(ROOT))
    throw new Error(`Recorded fixtures not found at ${ROOT}; they live in test/fixtures/ of the repository`);
  return ROOT;
}

export function fixtureFiles(provider: string): string[] {
  return readdirSync(`${root()}${provider}`).sort();
}

export function fixtureBytes(provider: string, file: string): Buffer {
  return readFileSync(`${root()}${provider}/${file}`);
}

export function fixtureText(provider: string, file: string): string {
  return fixtureBytes(provider, file).toString('utf8');
}

export function fixtureJson<T = unknown>(provider: string, file: string): T {
  return JSON.parse(fixtureText(provider, file)) as T;
}
