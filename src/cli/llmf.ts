#!/usr/bin/env node
/** `llmf`: the llm-factory command line. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isLLMError } from '../spec/errors.ts';
import { PROVIDERS } from '../spec/types.ts';
import { runChat } from './chat.ts';
import { runEmbed } from './embed.ts';
import { runEmulate } from './emulate.ts';
import { runKeysCreate, runKeysList, runKeysRevoke } from './keys.ts';
import { runServe } from './serve.ts';
import { runTokens } from './tokens.ts';

function number(kind: 'integer' | 'number', min = 0) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || (kind === 'integer' && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(
        `expected ${kind === 'integer' ? 'an integer' : 'a number'} ≥ ${min}, got "${value}"`,
      );
    }
    return parsed;
  };
}

const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };

const program = new Command()
  .name('llmf')
  .description('llm-factory: one interface to every major LLM provider')
  .showHelpAfterError();

program
  .command('chat')
  .description('ask a model; with no key in the environment, the built-in emulator answers')
  .argument(
    '[prompt...]',
    'the prompt (read from stdin when omitted and piped; a conversation at a terminal)',
  )
  .option('-p, --provider <name>', `provider: ${PROVIDERS.join(', ')}`)
  .option('-m, --model <model>', "model, or 'provider/model'")
  .option('--base-url <url>', 'API root (OpenAI: the /v1 URL)')
  .option('-s, --system <text>', 'system message')
  .option('-t, --temperature <n>', 'sampling temperature', number('number'))
  .option('--max-tokens <n>', 'most tokens in the answer', number('integer', 1))
  .option('--no-stream', 'wait for the whole answer instead of streaming')
  .option('--json', 'print the whole result as JSON')
  .option('--cache <store>', 'cache answers: memory, sqlite[:path] or redis[:url]')
  .option('--router <file>', 'route through a router config (YAML or JSON); -m names a group or deployment')
  .action((prompt: string[], flags) => runChat(prompt, flags, io));

program
  .command('embed')
  .description('embed a file line by line, with a progress bar; rerun to resume an interrupted run')
  .requiredOption(
    '-i, --input <file>',
    'a .txt file (one text per line) or .jsonl ({"text", "id"?} or a string per line)',
  )
  .requiredOption('-o, --output <file>', 'JSONL output, one {"line", "id"?, "embedding"} per input line')
  .option('-p, --provider <name>', `provider: ${PROVIDERS.join(', ')}`)
  .option('-m, --model <model>', "embedding model, or 'provider/model'")
  .option('--base-url <url>', 'API root')
  .option('--batch-size <n>', 'inputs per request (default: the provider’s limit)', number('integer', 1))
  .option('--concurrency <n>', 'requests in flight', number('integer', 1))
  .option(
    '--chunk <n>',
    'lines embedded and written per step (what a resume may redo)',
    number('integer', 1),
    1000,
  )
  .option('--cache <store>', 'cache vectors: memory, sqlite[:path] or redis[:url]')
  .option('--no-progress', 'no progress bar')
  .action((flags) => runEmbed(flags, io));

program
  .command('emulate')
  .description('run the local emulator that speaks the providers’ wire protocols')
  .option('--port <n>', 'port (0 = any free one)', number('integer'), 8787)
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--latency-ms <n>', 'delay before each response', number('number'))
  .option('--ttft-ms <n>', 'extra delay before the first streamed token', number('number'))
  .option('--tokens-per-second <n>', 'stream pace', number('number'))
  .option('--fault <kind[:n]>', 'a fault for every request (see README)')
  .option('--retry-after-ms <n>', 'wait asked for by rate-limit faults', number('number'))
  .action((flags) => runEmulate(flags, process.stdout));

program
  .command('serve')
  .description('run the gateway: OpenAI- and Anthropic-compatible endpoints in front of every provider')
  .option('-c, --config <file>', 'gateway config (YAML or JSON); none: serve the built-in emulator’s models')
  .option('--port <n>', 'port (0 = any free one)', number('integer'), 4000)
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--workers <n>', 'processes sharing the port and the state store', number('integer', 1), 1)
  .addOption(
    new Option('--log-level <level>', 'JSON log on stderr (info: a line per request)')
      .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  )
  .action((flags) => runServe(flags, { stdout: process.stdout, stderr: process.stderr, env: process.env }));

const keys = program.command('keys').description('manage the gateway’s virtual keys (needs the master key)');
const gatewayFlags = (command: Command) =>
  command
    .option('--url <url>', 'the gateway (default LLMF_GATEWAY_URL, then http://127.0.0.1:4000)')
    .option('--master-key <key>', 'the master key (default LLMF_MASTER_KEY)')
    .option('--json', 'print JSON');
gatewayFlags(
  keys
    .command('create')
    .description('create a key; it is printed once')
    .requiredOption('--name <name>', 'a name for the key (shown in metrics and logs)')
    .option('--models <list>', 'comma-separated model names the key may use (default: all)')
    .option('--rpm <n>', 'requests per minute', number('integer', 1))
    .option('--tpm <n>', 'tokens per minute', number('integer', 1))
    .option('--budget-usd <n>', 'spend allowed per budget period (or in total)', number('number'))
    .option('--budget-period <period>', 'day or month')
    .option('--expires-at <date>', 'an ISO date after which the key is refused'),
).action((flags) => runKeysCreate(flags, io));
gatewayFlags(keys.command('list').description('list the keys (never the keys themselves)')).action((flags) =>
  runKeysList(flags, io),
);
gatewayFlags(keys.command('revoke').description('revoke a key by id').argument('<id>', 'the key id')).action(
  (id: string, flags) => runKeysRevoke(id, flags, io),
);

program
  .command('tokens')
  .description('count tokens (exact for OpenAI encodings)')
  .argument('[text...]', 'text to count (or --file, or stdin)')
  .option('-m, --model <model>', 'model whose tokenizer to use', 'gpt-4o')
  .option('-f, --file <path>', 'count the tokens of a file')
  .action((text: string[], flags) => runTokens(text, flags, io));

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = isLLMError(error) || error instanceof Error ? error.message : String(error);
  process.stderr.write(`llmf: ${message}\n`);
  process.exitCode = 1;
});
