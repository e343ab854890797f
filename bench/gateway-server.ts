/**
 * `node bench/gateway-server.ts '{"stub":…,"masterKey":…,"stateDir":…,"paced":…}'`: the llm-factory gateway in
 * its own process for bench/gateway.ts, with the library's defaults (SQLite state, metrics; no cache, no
 * tracing, no access log) and V8 set as `llmf serve` sets it (`tuneGatewayProcess()`), over the stub in
 * bench/stub-server.ts; its models are bench/gateway-config.ts's.
 *
 * Prints `{"url": …}` on stdout once it listens; SIGTERM closes it.
 */
import { tuneGatewayProcess } from '../src/gateway/process-tuning.ts';
import { startGateway } from '../src/gateway/server.ts';
import { type BenchGatewayJob, benchGatewayConfig } from './gateway-config.ts';

const job = JSON.parse(process.argv[2] ?? '{}') as BenchGatewayJob;
// As `llmf serve` runs it (src/cli/serve.ts).
tuneGatewayProcess();
const gateway = await startGateway({ config: benchGatewayConfig(job), port: 0 });
process.stdout.write(`${JSON.stringify({ url: gateway.url })}\n`);
process.once('SIGTERM', () => {
  void gateway.close().then(() => process.exit(0));
});
