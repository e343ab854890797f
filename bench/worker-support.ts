/** What every measuring child process shares: a bounded-concurrency loop and the result line. */

export const RESULT_PREFIX = 'RESULT ';

/** Runs `operation` `total` times with at most `concurrency` in flight; the first failure rejects. */
export async function runWithConcurrency(
  total: number,
  concurrency: number,
  operation: () => Promise<void>,
): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < total) {
      started++;
      await operation();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, lane));
}

/** Writes the one line the parent reads (with this process's whole CPU time), then lets it end. */
export function emitResult(result: object): void {
  const cpu = process.cpuUsage();
  const line = JSON.stringify({ ...result, processCpuUs: cpu.user + cpu.system });
  process.stdout.write(`${RESULT_PREFIX}${line}\n`);
}
