/**
 * Loaded into the fuzzed gateway's process with `node --expose-gc --import <this file>`: on the parent's
 * IPC question `{ type: 'memory' }` it collects garbage and answers with the process's memory and with any
 * property that appeared on the built-in prototypes since it loaded (a prototype-polluting body leaves one).
 */

const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };

const before = Object.fromEntries(
  Object.entries(PROTOTYPES).map(([name, prototype]) => [name, new Set(Reflect.ownKeys(prototype))]),
);

export interface MemoryAnswer {
  type: 'memory';
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** `Object.prototype.polluted`, … : what appeared on a built-in prototype. */
  pollutedKeys: string[];
}

function pollutedKeys(): string[] {
  const found: string[] = [];
  for (const [name, prototype] of Object.entries(PROTOTYPES)) {
    for (const key of Reflect.ownKeys(prototype))
      if (!before[name]!.has(key)) found.push(`${name}.prototype.${String(key)}`);
  }
  return found;
}

process.on('message', (message: unknown) => {
  if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'memory')
    return;
  const collect = (globalThis as { gc?: () => void }).gc;
  // Several passes: a first one can leave objects that only a later one frees (weak maps, finalizers).
  for (let pass = 0; pass < 4; pass++) collect?.();
  const usage = process.memoryUsage();
  const answer: MemoryAnswer = {
    type: 'memory',
    rssBytes: usage.rss,
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    pollutedKeys: pollutedKeys(),
  };
  process.send?.(answer);
});
// The channel must not keep the gateway alive once it has been told to stop.
process.channel?.unref();
