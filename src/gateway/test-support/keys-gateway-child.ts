/**
 * A gateway in its own process for the scale-out tests: `node keys-gateway-child.ts <config file>`. It prints
 * the address it listens on, answers the parent's `health` message with its router's view of every deployment
 * (what `llmf serve` does not show), and closes on SIGTERM.
 */
import { loadGatewayConfig } from '../config.ts';
import { startGateway } from '../server.ts';

const gateway = await startGateway({ config: loadGatewayConfig(process.argv[2]!), port: 0 });
process.stdout.write(`listening on ${gateway.url}\n`);
process.on('message', (message) => {
  if (message === 'health') process.send!(gateway.router.health());
});
process.once('SIGTERM', () => {
  void gateway.close().then(() => process.disconnect());
});
