/** Client CPU per call, as bench/layers.ts and bench/router.ts measure it: 32 calls in flight, after a warm-up. */

export interface Callable {
  complete(request: { prompt: string }): Promise<unknown>;
  close(): Promise<void>;
}

/** CPU µs (user + system, this process) per completion over `requests` calls, 32 in flight; closes `client`. */
export async function cpuPerCall(client: Callable, requests: number): Promise<number> {
  const batch = async (count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next++ < count) await client.complete({ prompt: 'hello' });
      }),
    );
  };
  await batch(500);
  const before = process.cpuUsage();
  await batch(requests);
  const used = process.cpuUsage(before);
  await client.close();
  return (used.user + used.system) / requests;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
