/**
 * WAL checkpoints of one SQLite file on a worker thread, for retention.
 *
 * SQLite checkpoints a WAL file on the connection whose COMMIT made the WAL reach
 * `wal_autocheckpoint` pages (1000), inside that COMMIT: it copies the pages into the database
 * file and fsyncs it. A prune batch writes hundreds of pages (execution ids are random UUIDs, so
 * the primary-key index pages it touches are scattered), so while retention runs the WAL fills
 * every few batches and one commit in a few pays 10-15 ms for the checkpoint on the event loop
 * (measured: commit p50 1.7 ms, p90 13 ms; without the checkpoints p90 2.6 ms). That commit is
 * a prune batch or, just as often, a fire's claim in the same or the next group commit.
 *
 * So after each prune batch the storage asks this worker, which has its own connection, for a
 * PASSIVE checkpoint: it never takes the write lock and never waits for readers or writers, so
 * the event loop's writes go on while it copies; the WAL stays below the autocheckpoint limit and
 * the commits on the event loop stop paying for checkpoints. The main connection keeps its
 * autocheckpoint: if the worker cannot run (or lags), SQLite checkpoints as it always did.
 */

import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Logger } from "@tradecron/core";

/** The worker: opens the file, runs a PASSIVE checkpoint per message, answers with its result. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
parentPort.on("message", () => {
  let result = null;
  try {
    result = db.pragma("wal_checkpoint(PASSIVE)")[0] ?? null;
  } catch (error) {
    result = { error: String(error && error.message ? error.message : error) };
  }
  parentPort.postMessage(result);
});
`;

/** Where the better-sqlite3 driver this package loads is, so the worker loads the same one. */
function driverPath(): string {
  // (tsup's CJS build shims import.meta.url with the file's own URL.)
  return createRequire(import.meta.url).resolve("better-sqlite3");
}

/** What one checkpoint reported (PRAGMA wal_checkpoint: busy flag, WAL pages, pages copied). */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** Options of a {@link WalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** The database file (in WAL mode). */
  path: string;
  /** The worker ends after this long without a request (ms), so an idle storage holds no thread. */
  idleMs?: number;
  logger: Logger;
}

/** Runs PASSIVE checkpoints of one file on a worker thread, one at a time, on request. */
export class WalCheckpointer {
  private worker: Worker | null = null;
  /** A checkpoint is running (requests meanwhile are folded into one after it). */
  private busy = false;
  private again = false;
  private idle: NodeJS.Timeout | null = null;
  private failed = false;
  private closed = false;
  private readonly idleMs: number;
  private readonly waiters: ((result: CheckpointResult | null) => void)[] = [];
  /** How many checkpoints the worker ran. */
  checkpoints = 0;

  constructor(private readonly options: WalCheckpointerOptions) {
    this.idleMs = options.idleMs ?? 10_000;
  }

  /**
   * Asks for a checkpoint soon; returns at once. Requests while one runs fold into one more after
   * it. Does nothing once the worker failed (the main connection's autocheckpoint stays on).
   */
  request(): void {
    if (this.closed || this.failed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    const worker = this.start();
    if (!worker) return;
    this.busy = true;
    this.clearIdle();
    worker.postMessage(0);
  }

  /** Resolves after the checkpoint running now (and the one folded after it) ended; null if none. */
  settled(): Promise<CheckpointResult | null> {
    if (!this.busy) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends the worker (its connection closes with it). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearIdle();
    await this.stop();
  }

  private start(): Worker | null {
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { driver: driverPath(), path: this.options.path },
      });
      // Never keeps the process alive: it only helps the writes of a live storage.
      worker.unref();
      worker.on("message", (result: CheckpointResult | { error: string } | null) => this.done(result));
      worker.on("error", (error) => this.fail(error));
      worker.on("exit", () => {
        if (this.worker === worker) this.worker = null;
        if (this.busy) this.done(null);
      });
      this.worker = worker;
      return worker;
    } catch (error) {
      this.fail(error);
      return null;
    }
  }

  private done(result: CheckpointResult | { error: string } | null): void {
    this.busy = false;
    let ok: CheckpointResult | null = null;
    if (result && "error" in result) {
      this.options.logger.warn(
        { path: this.options.path, error: result.error },
        "sqlite: a background WAL checkpoint failed",
      );
    } else if (result) {
      ok = result;
      this.checkpoints += 1;
    }
    if (this.again && !this.closed && !this.failed) {
      this.again = false;
      this.request();
      return;
    }
    for (const resolve of this.waiters.splice(0)) resolve(ok);
    if (!this.closed) {
      this.idle = setTimeout(() => void this.stop(), this.idleMs);
      this.idle.unref();
    }
  }

  private fail(error: unknown): void {
    if (!this.failed)
      this.options.logger.warn(
        { err: error, path: this.options.path },
        "sqlite: the WAL checkpoint worker failed; SQLite checkpoints on commit instead",
      );
    this.failed = true;
    this.busy = false;
    this.again = false;
    for (const resolve of this.waiters.splice(0)) resolve(null);
    void this.stop();
  }

  private clearIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate().catch(() => 0);
    if (this.busy) this.done(null);
  }
}
