/** The `llmf` command as a user runs it: a real process, real stdout and stderr. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { PROVIDERS } from '../spec/types.ts';

const LLMF = fileURLToPath(new URL('./llmf.ts', import.meta.url));

/** The environment without any provider key, as on a newcomer's machine. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(OPENAI_|AZURE_|ANTHROPIC_|GEMINI_|GOOGLE_|AWS_|OLLAMA_)/.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

function run(
  args: string[],
  env = cleanEnv(),
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LLMF, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describe('llmf chat', () => {
  test('with no key, the embedded emulator answers and stderr says so', async () => {
    const { code, stdout, stderr } = await run(['chat', 'Explain quantum computing in simple terms']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^You asked: “Explain quantum computing in simple terms”\./);
    assert.match(stderr, /no provider key in the environment.*built-in emulator/);
    assert.match(stderr, /\d+ in \/ \d+ out · \$\d+\.\d{6} · stop/);
  });

  test('the prompt can come from stdin; --no-stream and --max-tokens apply', async () => {
    const { code, stdout } = await run(
      ['chat', '--no-stream', '--max-tokens', '5'],
      cleanEnv(),
      'from stdin please',
    );
    assert.equal(code, 0);
    assert.match(stdout, /^You asked/);
    assert.ok(stdout.trim().split(/\s+/).length <= 5);
  });

  describe('with a key in the environment', () => {
    let emulator: Emulator;
    before(async () => {
      emulator = await startEmulator();
    });
    after(async () => {
      await emulator.close();
    });

    test('it calls that provider (here the emulator standing in for it), without the notice', async () => {
      const env = cleanEnv({
        OPENAI_API_KEY: 'sk-cli-test-000000000000',
        OPENAI_BASE_URL: `${emulator.url}/v1`,
      });
      const { code, stdout, stderr } = await run(['chat', '--json', '-m', 'gpt-4o', 'hi there'], env);
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout) as { provider: string; model: string; text: string };
      assert.equal(result.provider, 'openai');
      assert.equal(result.model, 'gpt-4o');
      assert.doesNotMatch(stderr, /emulator/);
      const last = emulator.requests.at(-1)!;
      assert.equal(last.headers.authorization, 'Bearer sk-cli-test-000000000000');
    });

    test('a failing call exits 1 with the typed error’s message', async () => {
      const env = cleanEnv({
        OPENAI_API_KEY: 'sk-cli-test-000000000000',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      });
      const { code, stderr } = await run(['chat', '--no-stream', 'hi'], env);
      assert.equal(code, 1);
      assert.match(stderr, /^llmf: Connection failed/m);
    });
  });

  test('--help lists every provider', async () => {
    const { code, stdout } = await run(['chat', '--help']);
    assert.equal(code, 0);
    // The option's description, however the help wraps it.
    const described = stdout.slice(stdout.indexOf('--provider'), stdout.indexOf('--model'));
    for (const provider of PROVIDERS) assert.match(described, new RegExp(`\\b${provider}\\b`), provider);
  });

  for (const [args, provider, variable] of [
    [['-p', 'anthropic'], 'anthropic', /\(ANTHROPIC_API_KEY\)/],
    [['-m', 'gemini-2.5-flash'], 'gemini', /\(GEMINI_API_KEY or GOOGLE_API_KEY\)/],
  ] as const) {
    test(`${args.join(' ')} with no key: the emulator answers as ${provider}, and stderr names its variable`, async () => {
      const { code, stdout, stderr } = await run(['chat', '--json', ...args, 'hi there']);
      assert.equal(code, 0, stderr);
      assert.equal((JSON.parse(stdout) as { provider: string }).provider, provider);
      assert.match(stderr, new RegExp(`no ${provider} key in the environment`));
      assert.match(stderr, variable);
      assert.doesNotMatch(stderr, /OPENAI_API_KEY/);
    });
  }

  test('--router: the config file routes the call, and stderr names the deployment that answered', async () => {
    const down = await startEmulator({ fault: 'unavailable' });
    const up = await startEmulator();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'llmf-router-'));
      const config = join(dir, 'router.yaml');
      writeFileSync(
        config,
        [
          'deployments:',
          '  - id: primary',
          '    model: openai/gpt-4o-mini',
          '    options: { apiKey: env:ROUTER_CLI_KEY, baseURL: env:ROUTER_CLI_PRIMARY }',
          '  - id: backup',
          '    model: anthropic/claude-sonnet-4-6',
          '    options: { apiKey: env:ROUTER_CLI_KEY, baseURL: env:ROUTER_CLI_BACKUP }',
          'groups:',
          '  chat: [primary, backup]',
          '',
        ].join('\n'),
      );
      const env = cleanEnv({
        ROUTER_CLI_KEY: 'test-key-not-real',
        ROUTER_CLI_PRIMARY: `${down.url}/v1`,
        ROUTER_CLI_BACKUP: up.url,
      });
      const streamed = await run(['chat', '--router', config, '-m', 'chat', 'route me'], env);
      assert.equal(streamed.code, 0, streamed.stderr);
      assert.match(streamed.stdout, /^You asked: “route me”/);
      assert.match(streamed.stderr, /^\[backup · claude-sonnet-4-6[^ ]* · \d+ in/m);
      const json = await run(['chat', '--router', config, '--json', 'route me'], env);
      const result = JSON.parse(json.stdout) as {
        route: { deployment: string; attempts: Array<{ deployment: string }> };
      };
      assert.equal(result.route.deployment, 'backup');
      const missing = await run(['chat', '--router', config, 'x'], cleanEnv());
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /router\.yaml: .*environment variable ROUTER_CLI_KEY is not set/);
    } finally {
      await down.close();
      await up.close();
    }
  });

  test('bad flags are named', async () => {
    const { code, stderr } = await run(['chat', '--temperature', 'hot', 'hi']);
    assert.notEqual(code, 0);
    assert.match(stderr, /--temperature.*invalid.*expected a number/);
  });
});

describe('llmf embed', () => {
  test('embeds a file in order, and a rerun after a crash mid-write resumes without redoing finished lines', async () => {
    const emulator = await startEmulator();
    const dir = mkdtempSync(join(tmpdir(), 'llmf-embed-'));
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    writeFileSync(
      input,
      Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: `doc-${i}`, text: `document ${i}` })).join(
        '\n',
      ),
    );
    const env = cleanEnv({
      OPENAI_API_KEY: 'sk-cli-embed-000000000000',
      OPENAI_BASE_URL: `${emulator.url}/v1`,
    });
    const args = [
      'embed',
      '-i',
      input,
      '-o',
      output,
      '--chunk',
      '100',
      '--batch-size',
      '40',
      '--no-progress',
    ];
    const first = await run(args, env);
    assert.equal(first.code, 0, first.stderr);
    const complete = readFileSync(output, 'utf8');
    const records = complete
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { line: number; id: string; embedding: number[] });
    assert.deepEqual(
      records.map((r) => r.line),
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
    assert.equal(records[7]?.id, 'doc-7');
    assert.equal(records[0]?.embedding.length, 1536);

    // A crash mid-write: 120 whole lines and half of the next one.
    const lines = complete.split('\n');
    writeFileSync(output, `${lines.slice(0, 120).join('\n')}\n${lines[120]!.slice(0, 50)}`);
    const before = emulator.requests.length;
    const second = await run(args, env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming: 120 of 250/);
    const sent = emulator.requests
      .slice(before)
      .reduce((n, request) => n + ((request.body as { input: string[] }).input?.length ?? 0), 0);
    assert.equal(sent, 130, 'only the 130 unfinished lines were embedded again');
    assert.equal(
      readFileSync(output, 'utf8'),
      complete,
      'the resumed file is byte for byte the uninterrupted one',
    );
    await emulator.close();
  });
});

describe('llmf tokens and emulate', () => {
  test('tokens counts exactly', async () => {
    const { code, stdout } = await run(['tokens', '-m', 'gpt-4o', 'hello', 'world']);
    assert.equal(code, 0);
    assert.match(stdout, /^2\t\(o200k_base, gpt-4o\)/);
  });

  test('emulate listens and serves until interrupted', async () => {
    const child = spawn(process.execPath, [LLMF, 'emulate', '--port', '0'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('error', reject);
      child.on('close', () => reject(new Error(`emulate exited: ${out}`)));
    });
    const response = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer x' } });
    assert.equal(response.status, 200);
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
