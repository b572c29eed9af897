/**
 * Answers of the page's API kept between requests while nothing they read has changed. Only with a WriteLog
 * (db/write-log.ts), i.e. PGlite, where this process makes every write: an answer is kept with the log's stamp
 * taken BEFORE it was read, and given again only while the stamp is the same, so any write that finished after the
 * read began makes it read again. A PostgreSQL server has writers this process does not see: nothing is kept there
 * (its reads run in parallel on the server and do not wait behind this process's writes).
 *
 * Answers that depend on the clock (a running run's or experiment's duration so far) are not kept: `keep` says so.
 * The values are shared between requests: callers only serialise them.
 */
import type { WriteLog } from '../db/write-log.ts';

const MAX_ENTRIES = 512;

export class ReadCache {
  readonly #log: WriteLog | null;
  readonly #entries = new Map<string, { stamp: string; value: unknown }>();

  constructor(log: WriteLog | null) {
    this.#log = log;
  }

  /**
   * The answer for `key`: kept, or read now. `runId` names the one run whose rows (and the experiment's) the read
   * depends on; without it, the read depends on anything.
   */
  async get<T>(key: string, o: { runId?: number; keep?: (value: T) => boolean }, read: () => Promise<T>): Promise<T> {
    if (!this.#log) return read();
    const stamp = this.#log.stamp(o.runId);
    const kept = this.#entries.get(key);
    if (kept?.stamp === stamp) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, kept);
      return kept.value as T;
    }
    const value = await read();
    if (o.keep && !o.keep(value)) this.#entries.delete(key);
    else {
      this.#entries.delete(key);
      this.#entries.set(key, { stamp, value });
      if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return value;
  }
}
