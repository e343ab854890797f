/**
 * `node bench/portkey-server.ts`: Portkey's open-source gateway (`@portkey-ai/gateway`, its own Node
 * entry `build/start-server.js`, unchanged) in its own process for bench/gateway.ts. Two things are shimmed
 * around it, neither on its request path: its server is kept on loopback (it listens on every interface)
 * on a free port, and its start-up banner is silenced, so that this process prints only `{"url": …}` on
 * stdout once it listens, as the harness's other servers do. SIGTERM ends it.
 *
 * Portkey is told per request where to send it: `x-portkey-provider` and `x-portkey-custom-host` headers.
 */
import { Server } from 'node:net';

const write = process.stdout.write.bind(process.stdout);
let announced = false;

const listen = Server.prototype.listen;
// Portkey calls `listen(port)` through @hono/node-server: the same call on 127.0.0.1, port chosen by the OS.
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  return (listen as (port: number, host: string, callback: () => void) => Server).call(
    this,
    0,
    '127.0.0.1',
    () => {
      const address = this.address();
      if (!announced && address && typeof address === 'object') {
        announced = true;
        write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
      }
      callback?.();
    },
  );
} as typeof listen;

// Its banner (a spinner, then the URL it would listen on) is not the harness's line.
process.stdout.write = (() => true) as typeof process.stdout.write;
console.log = () => {};
console.clear = () => {};

process.argv.push('--headless');
process.once('SIGTERM', () => process.exit(0));
await import('@portkey-ai/gateway/build/start-server.js' as string);
