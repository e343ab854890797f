/**
 * How every store of this project connects to Redis (through the maintained `@redis/client`), so that no
 * call ever waits on a server that is gone: a server that cannot be reached fails `connectRedis` at once (no
 * endless reconnect loop behind a pending promise), commands issued while the connection is down fail at once
 * instead of queueing until it returns, and a command the server does not answer fails after
 * `commandTimeoutMs`. Once connected, a lost connection is re-established in the background.
 */

export interface RedisConnectionOptions {
  /** Longest wait for the connection, in ms. Default 2 000. */
  connectTimeoutMs?: number;
  /** Longest wait for one command's answer, in ms. Default 1 000. */
  commandTimeoutMs?: number;
}

/** What every connection can do; each store casts to the few commands it uses. */
export interface RedisConnection {
  connect(): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export async function connectRedis<Client extends RedisConnection>(
  url: string,
  options: RedisConnectionOptions = {},
): Promise<Client> {
  const { createClient } = await import('@redis/client');
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs ?? 1_000 },
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      // The first connection is tried once, so that opening fails fast; after that, a lost connection is
      // tried again in the background, backing off to every 2 s.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(retries * 100, 2_000) : cause,
    },
  }) as unknown as Client;
  // Connection errors surface on the calls that need the server; the event must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.destroy?.();
    throw error;
  }
  connected = true;
  return client;
}

/** Closes gracefully if the server answers, and releases the socket in any case. */
export async function closeRedis(client: RedisConnection): Promise<void> {
  try {
    if (client.close) await client.close();
    else if (client.quit) await client.quit();
    else client.destroy?.();
  } catch {
    // Already closed, or the server went away: nothing is left to release.
    client.destroy?.();
  }
}
