/**
 * V8 settings for a process that is a gateway (`llmf serve` and its workers; decision 0010, "allocation-site
 * pretenuring off").
 *
 * V8 watches where objects are allocated and, when nearly all of one site's objects outlive a young-generation
 * GC, allocates that site's later objects straight into the old generation. A gateway's start-up and warm-up
 * keep almost everything, so sites that go on to allocate per-request objects are decided "tenure"; those
 * objects then sit in the old generation, and everything young they point to (the request's body, its upstream
 * answer, their closures) survives every scavenge until a full GC. Measured on the virtual-key path at 64
 * connections (bench/gateway-path.ts, trace-gc-nvp over 6.7 s): 208–594 MB promoted with it, 59–66 MB
 * without; scavenge time halved, mark-compacts 5–12 → 1, and no run fell into the slow regime that made
 * two of the day's full benchmark runs miss their targets.
 */
import { setFlagsFromString } from 'node:v8';

const FLAG = 'allocation-site-pretenuring';

/**
 * Turns V8's allocation-site pretenuring off for this process, unless its command line already says how it
 * should be (`node --allocation-site-pretenuring …` keeps it on; Node does not accept the flag in
 * `NODE_OPTIONS`). True when it was turned off. Call it first, before the process has allocated much: V8
 * reads the flag at each pretenuring decision, which the benchmark shows taking effect when set at run time,
 * but Node documents flags set after start-up as unsupported territory.
 */
export function tuneGatewayProcess(execArgv: readonly string[] = process.execArgv): boolean {
  const named = (argument: string) => argument.replace(/^--?(no-)?/, '').replaceAll('_', '-') === FLAG;
  if (execArgv.some(named)) return false;
  setFlagsFromString(`--no-${FLAG}`);
  return true;
}
