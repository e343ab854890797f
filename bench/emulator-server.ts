/**
 * The library's emulator in a process of its own, so its work (token counts, vectors, base64) never
 * lands in the measured client's CPU time.
 *
 *   node bench/emulator-server.ts '{"latencyMs":50}'
 *
 * Prints `{"url": …}` on stdout once it listens.
 */
import { startEmulator } from '../src/emulator/index.ts';

const { latencyMs } = JSON.parse(process.argv[2] ?? '{}') as { latencyMs?: number };
const emulator = await startEmulator({ latencyMs: latencyMs ?? 50, recordRequests: false });
process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
process.on('SIGTERM', () => {
  emulator.close().then(() => process.exit(0));
});
