/**
 * Cold start, in a fresh process: load the client library, create a client, make the first completion
 * against the stub. `performance.now()` counts from the process's time origin, so `bootMs` is Node's own
 * start-up plus this small file.
 *
 *   node bench/cold-start-worker.ts '{"client":"ours","url":"http://127.0.0.1:1234"}'
 */
import type { ClientName } from './clients.ts';

const bootMs = performance.now();
const job = JSON.parse(process.argv[2] ?? '{}') as ColdStartJob;
const { createBenchClient } = await import('./clients.ts');
const { COMPLETION_TEXT } = await import('./canned.ts');
const { emitResult } = await import('./worker-support.ts');
const helpersMs = performance.now();
const windowStartUs = Number(process.hrtime.bigint() / 1000n);

const client = await createBenchClient(job.client, `${job.url}/complete/v1`, { oursEntry: job.oursEntry });
const createdMs = performance.now();
const text = await client.complete();
const firstCallDoneMs = performance.now();
const windowEndUs = Number(process.hrtime.bigint() / 1000n);
if (text !== COMPLETION_TEXT) throw new Error(`${job.client}: wrong completion text`);
await client.close();

export interface ColdStartJob {
  client: ClientName;
  url: string;
  /** A file URL of the library's entry module, to time a compiled build instead of the sources. */
  oursEntry?: string;
}

export interface ColdStartMeasurement {
  bootMs: number;
  /** Import of the library and creation of one client. */
  importMs: number;
  /** The first completion, connection set-up included. */
  firstCallMs: number;
  /** Process time origin to the first answer. */
  totalMs: number;
  /** process.hrtime, µs, around import + create + first call (the clock of V8's CPU profiles). */
  windowStartUs: number;
  windowEndUs: number;
}

const measurement: ColdStartMeasurement = {
  bootMs,
  importMs: createdMs - helpersMs,
  firstCallMs: firstCallDoneMs - createdMs,
  totalMs: firstCallDoneMs,
  windowStartUs,
  windowEndUs,
};
emitResult(measurement);
