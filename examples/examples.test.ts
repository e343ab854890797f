/**
 * The examples run as a user runs them — `node examples/<name>.ts`, importing the built package by its name —
 * with no provider credentials in the environment, so the built-in emulator answers. (`npm ci` builds the
 * package; after changing `src/`, `npm run build` before running these.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Extraction } from './extraction.ts';

const run = promisify(execFile);
const PROVIDER_VARIABLE = /^(?:OPENAI_|AZURE_|ANTHROPIC_|GEMINI_|GOOGLE_|AWS_|OLLAMA_)/;

/** The environment without any provider's credentials or endpoint. */
function offlineEnv(model: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!PROVIDER_VARIABLE.test(name)) env[name] = value;
  env.LLMF_MODEL = model;
  return env;
}

async function example(
  name: string,
  model: string,
  ...args: string[]
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(import.meta.dirname, `${name}.ts`), ...args], {
    env: offlineEnv(model),
  });
}

const MODELS = [
  'openai/gpt-4o-mini',
  'anthropic/claude-sonnet-4-6',
  'gemini/gemini-2.5-flash',
  'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  'ollama/llama3.2',
  'azure/gpt-4o-mini',
  'openai-compatible/llama-3.1-8b',
];

describe('examples, offline', () => {
  for (const model of MODELS) {
    test(`extraction.ts with ${model}: entities that validate`, async () => {
      const { stdout, stderr } = await example(
        'extraction',
        model,
        'Ada Lovelace met Charles Babbage in London.',
      );
      assert.match(stderr, /emulator answers/);
      assert.equal(Extraction.safeParse(JSON.parse(stdout)).success, true, stdout);
    });
  }

  test('agent.ts: both tools run, their results reach the answer', async () => {
    const { stdout, stderr } = await example('agent', 'openai/gpt-4o-mini');
    assert.match(stderr, /get_weather → /);
    assert.match(stderr, /convert_temperature → /);
    assert.match(stdout, /temperatureC/);
  });

  test('describe-image.ts: the image arrives (the emulator names its type and size)', async () => {
    const { stdout } = await example('describe-image', 'openai/gpt-4o-mini');
    assert.match(stdout, /image\/png \(70 bytes\)/);
  });
});
