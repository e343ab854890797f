/**
 * `node bench/gateway-server.ts '{"stub":…,"masterKey":…,"stateDir":…}'`: the llm-factory gateway in its own
 * process for bench/gateway.ts, with the library's defaults (SQLite state, metrics; no cache, no tracing, no
 * access log) and V8 set as `llmf serve` sets it (`tuneGatewayProcess()`), over the stub in bench/stub-server.ts. Its models:
 *
 * - `gpt-4o-mini`: an OpenAI deployment at the stub's `/complete/v1` (a Chat Completions client passes through);
 * - `claude-sonnet-4-5`: an Anthropic deployment at the stub's `/anthropic` (a Chat Completions client is
 *   translated to the Messages API and back);
 * - `paced`: an OpenAI deployment at `/paced/<events>/<intervalMs>/v1` (streams that last as a model's do).
 *
 * Prints `{"url": …}` on stdout once it listens; SIGTERM closes it.
 */
import { join } from 'node:path';
import { gatewayConfigFrom } from '../src/gateway/config.ts';
import { tuneGatewayProcess } from '../src/gateway/process-tuning.ts';
import { startGateway } from '../src/gateway/server.ts';
import { API_KEY } from './canned.ts';

interface GatewayServerJob {
  stub: string;
  masterKey: string;
  stateDir: string;
  paced: { events: number; intervalMs: number };
}

const job = JSON.parse(process.argv[2] ?? '{}') as GatewayServerJob;
const config = gatewayConfigFrom({
  masterKey: job.masterKey,
  state: { sqlite: join(job.stateDir, 'gateway.sqlite') },
  deployments: [
    {
      id: 'gpt-4o-mini',
      model: 'openai/gpt-4o-mini',
      options: { apiKey: API_KEY, baseURL: `${job.stub}/complete/v1` },
    },
    {
      id: 'claude-sonnet-4-5',
      model: 'anthropic/claude-sonnet-4-5',
      options: { apiKey: API_KEY, baseURL: `${job.stub}/anthropic` },
    },
    {
      id: 'paced',
      model: 'openai/gpt-4o-mini',
      options: {
        apiKey: API_KEY,
        baseURL: `${job.stub}/paced/${job.paced.events}/${job.paced.intervalMs}/v1`,
      },
    },
  ],
});
// As `llmf serve` runs it (src/cli/serve.ts).
tuneGatewayProcess();
const gateway = await startGateway({ config, port: 0 });
process.stdout.write(`${JSON.stringify({ url: gateway.url })}\n`);
process.once('SIGTERM', () => {
  void gateway.close().then(() => process.exit(0));
});
