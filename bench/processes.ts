/**
 * Child processes for the harness: measuring workers (one result line each) and the servers they talk
 * to (stub, emulator), whose own CPU is read from /proc so a run can show the server was not the limit.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RESULT_PREFIX } from './worker-support.ts';

export const BENCH_DIR = import.meta.dirname;
export const REPOSITORY_ROOT = join(BENCH_DIR, '..');

/** The environment children get: ours, minus anything that would change how Node runs them. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
}

export interface WorkerOptions {
  /** Node flags, e.g. `--cpu-prof`. */
  execArgv?: string[];
  timeoutMs?: number;
  /** Servers working for this worker: their CPU is not counted as other processes' load. */
  servers?: ServerProcess[];
}

/** What the harness adds to every worker's result. */
export interface WorkerStats {
  /** The worker's whole CPU time, start-up included, µs. */
  processCpuUs: number;
  /**
   * Share of the machine's CPU (all cores) used by processes other than the worker, its servers and
   * the harness while the worker ran: other people's jobs on a shared machine. Undefined without /proc.
   */
  otherCpuShare?: number;
}

/** Busy CPU time of the whole machine so far (every core and process), ms; undefined without /proc. */
function machineBusyMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + (fields[7] ?? 0);
    return (busy * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Share of the machine's CPU that processes other than ours (the harness and `servers`) use right now,
 * sampled over `sampleMs`; undefined without /proc.
 */
export async function otherLoadNow(
  servers: readonly ServerProcess[],
  sampleMs = 150,
): Promise<number | undefined> {
  const machineBefore = machineBusyMs();
  const serversBefore = serversCpuMs(servers);
  const harnessBefore = process.cpuUsage();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const machineAfter = machineBusyMs();
  const serversAfter = serversCpuMs(servers);
  if (machineBefore === undefined || machineAfter === undefined) return undefined;
  if (serversBefore === undefined || serversAfter === undefined) return undefined;
  const harness = process.cpuUsage(harnessBefore);
  const otherMs =
    machineAfter - machineBefore - (serversAfter - serversBefore) - (harness.user + harness.system) / 1000;
  return Math.max(0, otherMs / ((performance.now() - start) * availableParallelism()));
}

function serversCpuMs(servers: readonly ServerProcess[]): number | undefined {
  let total = 0;
  for (const server of servers) {
    const cpu = server.cpuMs();
    if (cpu === undefined) return undefined;
    total += cpu;
  }
  return total;
}

/** Runs `bench/<file>` with `job` and resolves to the object on its `RESULT` line. */
export async function runWorker<T>(
  file: string,
  job: unknown,
  options: WorkerOptions = {},
): Promise<T & WorkerStats> {
  const servers = options.servers ?? [];
  const machineBefore = machineBusyMs();
  const serversBefore = serversCpuMs(servers);
  const harnessBefore = process.cpuUsage();
  const start = performance.now();
  const result = await spawnWorker<T & WorkerStats>(file, job, options);
  const wallMs = performance.now() - start;
  const machineAfter = machineBusyMs();
  const serversAfter = serversCpuMs(servers);
  const harness = process.cpuUsage(harnessBefore);
  if (
    machineBefore !== undefined &&
    machineAfter !== undefined &&
    serversBefore !== undefined &&
    serversAfter !== undefined
  ) {
    const otherMs =
      machineAfter -
      machineBefore -
      result.processCpuUs / 1000 -
      (serversAfter - serversBefore) -
      (harness.user + harness.system) / 1000;
    result.otherCpuShare = Math.max(0, otherMs / (wallMs * availableParallelism()));
  }
  return result;
}

function spawnWorker<T>(file: string, job: unknown, options: WorkerOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.execArgv ?? []), join(BENCH_DIR, file), JSON.stringify(job)],
      { cwd: REPOSITORY_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
        return;
      }
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const detail = (stderr || stdout).trim().split('\n').slice(-12).join('\n');
      reject(new Error(`${file} ${JSON.stringify(job)}: ${why}\n${detail}`));
    });
  });
}

/** Wall time of a whole child process, spawn to exit, and its result line. */
export async function timeWorker<T>(
  file: string,
  job: unknown,
  options: WorkerOptions = {},
): Promise<{ result: T & WorkerStats; wallMs: number }> {
  const start = performance.now();
  const result = await runWorker<T>(file, job, options);
  return { result, wallMs: performance.now() - start };
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** CPU the server process has used so far (user + system), ms; undefined where /proc is missing. */
  cpuMs(): number | undefined;
  /** Its resident memory now and at its peak so far, bytes; undefined where /proc is missing. */
  memory(): { rssBytes: number; peakRssBytes: number } | undefined;
  stop(): Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = 100;

function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

function processMemory(pid: number): { rssBytes: number; peakRssBytes: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rssBytes = kb('VmRSS') * 1024;
    const peakRssBytes = kb('VmHWM') * 1024;
    return Number.isFinite(rssBytes) && Number.isFinite(peakRssBytes)
      ? { rssBytes, peakRssBytes }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `bench/<file>` and waits for the `{"url":…}` line it prints when it listens. */
export function startServer(file: string, argument?: unknown): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const args = [join(BENCH_DIR, file)];
    if (argument !== undefined) args.push(JSON.stringify(argument));
    const child = spawn(process.execPath, args, {
      cwd: REPOSITORY_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening\n${stderr}`)));
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const pid = child.pid!;
      resolve({
        url: (JSON.parse(line) as { url: string }).url,
        pid,
        cpuMs: () => processCpuMs(pid),
        memory: () => processMemory(pid),
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
