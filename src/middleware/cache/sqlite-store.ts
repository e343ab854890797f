/**
 * A persistent cache in one SQLite file through Node's built-in `node:sqlite` (no native addon). WAL
 * journaling lets several processes read while one writes, and a process killed mid-write leaves the
 * last committed state readable. Expired rows are skipped on read and swept now and then.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { requireNodeFeature } from '../../spec/node-support.ts';
import type { CacheStore } from './store.ts';

type Database = import('node:sqlite').DatabaseSync;
type Statement = import('node:sqlite').StatementSync;

export class SqliteStore implements CacheStore {
  readonly #db: Database;
  readonly #get: Statement;
  readonly #set: Statement;
  readonly #delete: Statement;
  readonly #sweep: Statement;
  #writes = 0;

  /** `path` is created with its folder when missing. */
  constructor(path: string, sqlite: typeof import('node:sqlite')) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new sqlite.DatabaseSync(path);
    try {
      // busy_timeout first: switching to WAL and creating the table take locks, and a process opening the file
      // while another one does the same must wait for them rather than fail with "database is locked".
      this.#db.exec(`
        PRAGMA busy_timeout = 5000;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE IF NOT EXISTS llm_cache (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          expires_at INTEGER
        ) WITHOUT ROWID;
      `);
      this.#get = this.#db.prepare('SELECT value, expires_at FROM llm_cache WHERE key = ?');
      this.#set = this.#db.prepare(
        'INSERT OR REPLACE INTO llm_cache (key, value, expires_at) VALUES (?, ?, ?)',
      );
      this.#delete = this.#db.prepare('DELETE FROM llm_cache WHERE key = ?');
      this.#sweep = this.#db.prepare(
        'DELETE FROM llm_cache WHERE expires_at IS NOT NULL AND expires_at <= ?',
      );
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Opens (or creates) the cache file. On a Node without `node:sqlite`, an `LLMConfigurationError`. */
  static async open(path: string): Promise<SqliteStore> {
    requireNodeFeature('sqlite');
    const sqlite = await import('node:sqlite');
    // Several processes creating one file at once can meet SQLITE_BUSY while it switches to WAL, a step the
    // busy handler does not always cover: try again a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        return new SqliteStore(path, sqlite);
      } catch (error) {
        if (attempt >= 20 || !/locked|busy/i.test((error as Error).message)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
      }
    }
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.#get.get(key) as { value: string; expires_at: number | null } | undefined;
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
    return row.value;
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    this.#set.run(key, value, ttlMs === undefined ? null : Date.now() + ttlMs);
    if (++this.#writes % 1000 === 0) this.#sweep.run(Date.now());
  }

  async delete(key: string): Promise<void> {
    this.#delete.run(key);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
