/**
 * One way to open `@redis/client` for a layer that must never make a call wait on Redis (the cache's
 * store, the router's shared state): the first connection is tried once (a server that cannot be reached
 * fails at once, instead of an endless reconnect loop behind a pending promise), a lost connection is
 * re-established in the background, commands issued while it is down fail at once instead of queueing,
 * and a command the server does not answer fails after `commandTimeoutMs`.
 */

export interface RedisConnectionOptions {
  /** Longest wait for the connection, in ms. */
  connectTimeoutMs: number;
  /** Longest wait for one command's answer, in ms. */
  commandTimeoutMs: number;
}

/** A connected client, typed by the caller as the part of the client it uses. */
export async function connectRedis<Client>(url: string, options: RedisConnectionOptions): Promise<Client> {
  const { createClient } = await import('@redis/client');
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs },
    socket: {
      connectTimeout: options.connectTimeoutMs,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(retries * 100, 2_000) : cause,
    },
  });
  // Connection errors surface on the calls that need the server; the event must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw error;
  }
  connected = true;
  return client as unknown as Client;
}
