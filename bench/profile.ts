/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the main thread spent its time, by
 * function and by package, optionally only inside a measured window (V8's profile clock and
 * `process.hrtime` are the same monotonic clock, in µs here).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  /** `name (file:line)`, with paths shortened to the repository or the package. */
  label: string;
  group: string;
  /** Self time in the window, ms. */
  selfMs: number;
  /** Self time as a share of the busy (non-idle) time in the window. */
  selfShare: number;
}

export interface GroupCost {
  group: string;
  selfMs: number;
  selfShare: number;
}

export interface InclusiveCost {
  label: string;
  /** Time with this function anywhere on the stack, ms. */
  totalMs: number;
  totalShare: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  samples: number;
  functions: FunctionCost[];
  groups: GroupCost[];
  /** Self time by source file (runtime parts by group), for start-up profiles. */
  files: GroupCost[];
  /** Our own functions (src/) by inclusive time. */
  oursInclusive: InclusiveCost[];
}

const IDLE = '(idle)';

/** Which package (or part of the runtime) a frame belongs to. */
export function groupOf(frame: CallFrame, repositoryRoot: string): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === IDLE) return IDLE;
    if (functionName === '(program)') return '(program: V8/native, unattributed)';
    return 'V8 builtins';
  }
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith('wasm://')) return 'WebAssembly (undici’s llhttp parser)';
  const path = decodeURIComponent(url.replace(/^file:\/\//, ''));
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith(`${repositoryRoot}/src/`)) return 'llm-factory (src/)';
  if (path.startsWith(`${repositoryRoot}/bench/`)) return 'bench/ (the driver, and the floor client itself)';
  return path;
}

function shortUrl(url: string, repositoryRoot: string): string {
  const path = decodeURIComponent(url.replace(/^file:\/\//, ''));
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  if (path.startsWith(`${repositoryRoot}/`)) return path.slice(repositoryRoot.length + 1);
  return path;
}

function labelOf(frame: CallFrame, repositoryRoot: string): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  return `${name} (${shortUrl(frame.url, repositoryRoot)}:${frame.lineNumber + 1})`;
}

/**
 * For start-up profiles: each busy sample in `window` goes to the outermost package on its stack (a
 * dependency's own imports count toward it), else to TypeScript type stripping when Node's stripper
 * (amaro) is on the stack, else to our own modules when one of them is, else to Node's module loader.
 */
export function startupAttribution(
  path: string,
  repositoryRoot: string,
  window?: { startUs: number; endUs: number },
): GroupCost[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const totals = new Map<string, number>();
  let busyUs = 0;
  let clock = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    clock += profile.timeDeltas[i]!;
    const weight = i + 1 < profile.samples.length ? profile.timeDeltas[i + 1]! : profile.endTime - clock;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName === IDLE || weight <= 0) continue;
    if (window && (clock < window.startUs || clock > window.endUs)) continue;
    let outermostPackage: string | undefined;
    let stripping = false;
    let ours = false;
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.url.includes('amaro')) stripping = true;
      const group = groupOf(frame, repositoryRoot);
      if (group === 'llm-factory (src/)') ours = true;
      else if (frame.url.includes('/node_modules/')) outermostPackage = group;
    }
    const bucket = outermostPackage
      ? `package ${outermostPackage} (loading and its first use)`
      : stripping
        ? 'TypeScript type stripping (amaro) of our .ts files'
        : ours
          ? 'our modules (evaluation, client creation, first call)'
          : leaf.callFrame.functionName === '(garbage collector)'
            ? 'GC'
            : 'Node module loader (resolve, read, compile) and other';
    totals.set(bucket, (totals.get(bucket) ?? 0) + weight);
    busyUs += weight;
  }
  return [...totals.entries()]
    .map(([group, us]) => ({ group, selfMs: us / 1000, selfShare: busyUs > 0 ? us / busyUs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

/**
 * Summarises `path`. With a window (µs on the hrtime clock), only samples inside it count; when the
 * window does not overlap the profile at all, the whole profile is used.
 */
export function summarizeProfile(
  path: string,
  repositoryRoot: string,
  window?: { startUs: number; endUs: number },
  top = 20,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }

  // Each sample stands for the time until the next one.
  const times: number[] = [];
  let clock = profile.startTime;
  for (const delta of profile.timeDeltas) {
    clock += delta;
    times.push(clock);
  }
  const inWindow = (time: number) => !window || (time >= window.startUs && time <= window.endUs);
  const overlaps = window ? times.some(inWindow) : true;

  const selfById = new Map<number, number>();
  let windowUs = 0;
  let count = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const time = times[i]!;
    if (overlaps && !inWindow(time)) continue;
    const weight = (times[i + 1] ?? profile.endTime) - time;
    if (weight <= 0) continue;
    const id = profile.samples[i]!;
    selfById.set(id, (selfById.get(id) ?? 0) + weight);
    windowUs += weight;
    count++;
  }

  const functions = new Map<string, FunctionCost>();
  const groups = new Map<string, number>();
  const files = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfById) {
    const frame = byId.get(id)!.callFrame;
    const group = groupOf(frame, repositoryRoot);
    if (group === IDLE) {
      idleUs += us;
      continue;
    }
    const label = labelOf(frame, repositoryRoot);
    const entry = functions.get(label) ?? { label, group, selfMs: 0, selfShare: 0 };
    entry.selfMs += us / 1000;
    functions.set(label, entry);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const file =
      frame.url === '' || frame.url.startsWith('node:') ? group : shortUrl(frame.url, repositoryRoot);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busyUs = windowUs - idleUs;

  // Inclusive time of our own functions: each sample counts once per function on its stack.
  const inclusive = new Map<string, number>();
  for (const [leaf, us] of selfById) {
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (groupOf(frame, repositoryRoot) !== 'llm-factory (src/)') continue;
      const label = labelOf(frame, repositoryRoot);
      if (seen.has(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + us);
    }
  }

  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  return {
    windowMs: windowUs / 1000,
    busyMs: busyUs / 1000,
    samples: count,
    functions: [...functions.values()]
      .map((entry) => ({ ...entry, selfShare: share(entry.selfMs * 1000) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    groups: [...groups.entries()]
      .map(([group, us]) => ({ group, selfMs: us / 1000, selfShare: share(us) }))
      .sort((a, b) => b.selfMs - a.selfMs),
    files: [...files.entries()]
      .map(([group, us]) => ({ group, selfMs: us / 1000, selfShare: share(us) }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
    oursInclusive: [...inclusive.entries()]
      .map(([label, us]) => ({ label, totalMs: us / 1000, totalShare: share(us) }))
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, top),
  };
}
