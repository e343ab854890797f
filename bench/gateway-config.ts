/**
 * The benchmark gateway's configuration over the stub in bench/stub-server.ts (one module for
 * bench/gateway-server.ts and bench/gateway-gc-worker.ts). Its models:
 *
 * - `gpt-4o-mini`: an OpenAI deployment at the stub's `/complete/v1` (a Chat Completions client passes through);
 * - `claude-sonnet-4-5`: an Anthropic deployment at the stub's `/anthropic` (a Chat Completions client is
 *   translated to the Messages API and back);
 * - `paced`: an OpenAI deployment at `/paced/<events>/<intervalMs>/v1` (streams that last as a model's do).
 */
import { join } from 'node:path';
import { type GatewayConfig, gatewayConfigFrom } from '../src/gateway/config.ts';
import { API_KEY } from './canned.ts';

export interface BenchGatewayJob {
  stub: string;
  masterKey: string;
  stateDir: string;
  paced: { events: number; intervalMs: number };
}

export function benchGatewayConfig(job: BenchGatewayJob): GatewayConfig {
  return gatewayConfigFrom({
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
}
