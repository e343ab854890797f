/**
 * Checkpoints the SQLite state file's write-ahead log from a worker thread, so that the serving thread
 * never does. SQLite's own auto-checkpoint runs inside the commit that passes 1,000 pages, on the thread that
 * committed: it copies the log into the database and syncs the file, a few milliseconds now and then with
 * the event loop blocked (measured at 500 requests/s: one commit in ~250 over 1 ms, the slowest 12 ms).
 *
 * The store turns that off on its own connection and calls `committed()` after each commit; every
 * `EVERY_COMMITS` this asks its thread, over its own connection, for a `PASSIVE` checkpoint, which takes no
 * lock a writer waits for. The log is rewound only when a writer starts after a checkpoint has caught up
 * with its end, which a steady stream of commits may never allow; so when the log passes `maxBytes` the
 * store holds its next commits back (`hold`: they wait in its queue, the event loop goes on) while the thread
 * runs a `RESTART` checkpoint, then lets them go (`release`): the first one rewinds the log and truncates
 * the file to `maxBytes` (`journal_size_limit`). If the thread fails, the store falls back to SQLite's
 * auto-checkpoint (`failed`).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Commits between two requests for a checkpoint (SQLite's own is every 1,000 pages, some 60 commits). */
const EVERY_COMMITS = 64;

interface ThreadData {
  /** The database as a `file:` URL opened `mode=rw`: a file removed meanwhile is not created again, empty. */
  url: string;
  maxBytes: number;
}

/** What the thread answers: after a passive checkpoint, whether the log is past `maxBytes`; after a restart. */
type ThreadAnswer = { passive: { overMaxBytes: boolean } } | { restarted: true };

/** The thread's code: plain JavaScript once types are stripped or compiled, run with `eval`. */
function checkpointThread(): void {
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
  const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
  const { url, maxBytes } = workerData as ThreadData;
  const db = new DatabaseSync(new URL(url));
  db.exec('PRAGMA busy_timeout = 5000');
  const pageBytes = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');
  parentPort?.on('message', (message: 'passive' | 'restart' | 'close') => {
    if (message === 'close') {
      db.close();
      parentPort.close();
    } else if (message === 'passive') {
      const { log } = passive.get() as { log: number };
      parentPort.postMessage({ passive: { overMaxBytes: log * pageBytes > maxBytes } });
    } else {
      restart.get();
      parentPort.postMessage({ restarted: true });
    }
  });
}

export interface CheckpointHooks {
  /** Holds the store's commits back until `release`. */
  hold(): void;
  release(): void;
  /** The thread cannot go on (told once, and only while the store is open); it checkpoints nothing more. */
  failed(error: unknown): void;
}

export class WalCheckpointer {
  readonly #data: ThreadData;
  readonly #hooks: CheckpointHooks;
  #worker: Worker | undefined;
  #exited: Promise<unknown> | undefined;
  #commits = 0;
  #running = false;
  #holding = false;
  #closed = false;

  constructor(path: string, maxBytes: number, hooks: CheckpointHooks) {
    // The file the store's own connection opened (it exists by now): `pathToFileURL` resolves `..` as text,
    // which through a symbolic link could name another file.
    let real = path;
    try {
      real = realpathSync(path);
    } catch {
      // Gone already: the thread's open fails and the store checkpoints itself.
    }
    const url = pathToFileURL(real);
    url.search = 'mode=rw';
    this.#data = { url: url.href, maxBytes };
    this.#hooks = hooks;
  }

  /** Counts a commit; every `EVERY_COMMITS`, asks for a checkpoint unless one is still running. Never throws. */
  committed(): void {
    if (++this.#commits < EVERY_COMMITS || this.#running || this.#closed) return;
    this.#commits = 0;
    this.#running = true;
    try {
      const thread = this.#thread();
      // Referenced while a checkpoint runs: a restart holds the store's commits back, and a process that
      // ended before it answered would lose them.
      thread.ref();
      thread.postMessage('passive');
    } catch (error) {
      // A thread that cannot start (out of memory, say): the store checkpoints itself from now on.
      this.#closed = true;
      this.#hooks.failed(error);
    }
  }

  /** The thread, started on the first checkpoint (a store that only reads never starts one). */
  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(`(${checkpointThread.toString()})()`, { eval: true, workerData: this.#data });
    this.#exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.on('message', (answer: ThreadAnswer) => {
      if ('passive' in answer && answer.passive.overMaxBytes && !this.#closed) {
        this.#holding = true;
        this.#hooks.hold();
        worker.postMessage('restart');
        return;
      }
      this.#letGo();
      this.#running = false;
      if (!this.#closed) worker.unref();
    });
    worker.on('error', (error) => {
      // A store already closed has nothing left to checkpoint: only an open one is told.
      const open = !this.#closed;
      this.#closed = true;
      this.#letGo();
      if (open) this.#hooks.failed(error);
    });
    // Unreferenced last: adding a 'message' listener references the worker's port again, and a process that
    // never closes its store would then never end.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #letGo(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#hooks.release();
  }

  /** Ends the thread once the checkpoint it is running, if any, is done; the store's commits are let go. */
  async close(): Promise<void> {
    this.#closed = true;
    // Referenced again, or a process with nothing else to do would end before the thread has.
    this.#worker?.ref();
    this.#worker?.postMessage('close');
    await this.#exited;
    this.#letGo();
  }
}
