/**
 * The open state of one store folder: its lock, its collections, and whether it is still healthy.
 * One engine exists per folder per process; every FileStorage handle on that folder shares it
 * (see engine-registry.ts).
 *
 * Failure policy: a failed write (ENOSPC, EIO, a failed fsync) or a lost lock stops the engine.
 * Every later call fails with a StorageError naming the folder and the first failure, until the
 * store is closed and opened again, which re-reads what is really on disk. Retrying in place
 * could acknowledge writes the disk never kept.
 */

import { mkdir, readdir, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { MembershipTable, type StorageChange } from "@tradecron/core";
import { fsyncDir } from "./atomic-write.js";
import { ApprovalStore, AuditStore, OrderStore } from "./collections.js";
import { ioError, storageError } from "./errors.js";
import { ExecutionStore } from "./executions.js";
import { openManifest, type StoreManifest } from "./format.js";
import { EXECUTIONS_DIR, isTempName, LOCK_FILE, SCHEDULES_DIR, scheduleIdOf } from "./layout.js";
import { StoreLock } from "./lock.js";
import { Quarantine, type QuarantineReport } from "./quarantine.js";
import { ScheduleStore } from "./schedules.js";

/** Settings fixed for the life of an engine (the first handle to open a folder decides them). */
export interface EngineOptions {
  segmentLines: number;
  mergeFanIn: number;
  mergeMaxBytes: number;
  rewriteQuietMs: number;
  staleLockMs: number;
  inlineCommits: boolean;
  report: (report: QuarantineReport) => void;
}

/** The shared, open state of one store folder. */
export class StoreEngine {
  private failure: Error | null = null;
  private closed = false;
  private readonly listeners = new Set<(change: StorageChange) => void>();
  lock!: StoreLock;
  manifest!: StoreManifest;
  quarantine!: Quarantine;
  schedules!: ScheduleStore;
  executions!: ExecutionStore;
  approvals!: ApprovalStore;
  orders!: OrderStore;
  audit!: AuditStore;
  /**
   * Cluster membership: one process owns the folder, so its schedulers beat into a table in
   * memory, shared by every handle on the folder (see FileStorage.heartbeat).
   */
  readonly members = new MembershipTable();

  private constructor(
    /** The folder (real path). */
    readonly dir: string,
  ) {}

  /** Locks the folder, checks its format, recovers and loads every collection. */
  static async open(dir: string, options: EngineOptions): Promise<StoreEngine> {
    const engine = new StoreEngine(dir);
    try {
      if (await mkdir(dir, { recursive: true })) await fsyncDir(dirname(dir));
    } catch (error) {
      throw ioError("create the store folder", dir, error);
    }
    engine.lock = await StoreLock.acquire(dir, {
      staleMs: options.staleLockMs,
      onCompromised: (error) => engine.fail(error),
    });
    const ctx = {
      get quarantine() {
        return engine.quarantine;
      },
      fail: (error: unknown) => engine.fail(error),
      inlineCommits: options.inlineCommits,
    };
    try {
      await removeStaleTemps(dir);
      engine.manifest = await openManifest(dir);
      engine.quarantine = new Quarantine(dir, options.report);
      engine.schedules = await ScheduleStore.open(dir, ctx);
      engine.executions = await ExecutionStore.open(join(dir, EXECUTIONS_DIR), ctx, {
        segmentLines: options.segmentLines,
        mergeFanIn: options.mergeFanIn,
        mergeMaxBytes: options.mergeMaxBytes,
        rewriteQuietMs: options.rewriteQuietMs,
        inlineCommits: options.inlineCommits,
      });
      // States of schedules deleted by a process that died before it removed their state. A
      // schedule file quarantined by this open keeps its state: a person may restore the file.
      const quarantined = new Set(
        engine.quarantine.reports
          .filter((r) => dirname(r.path) === join(dir, SCHEDULES_DIR))
          .map((r) => scheduleIdOf(basename(r.path))),
      );
      await engine.executions.deleteStates(
        engine.executions.states.ids().filter((id) => !engine.schedules.has(id) && !quarantined.has(id)),
      );
      engine.approvals = await ApprovalStore.open(dir, ctx);
      engine.orders = await OrderStore.open(dir, ctx);
      engine.audit = await AuditStore.open(dir, ctx);
    } catch (error) {
      await engine.closeParts();
      await engine.lock.release().catch(() => {});
      throw error;
    }
    return engine;
  }

  /**
   * Stops the engine after a failed write or a lost lock; returns the error callers should see.
   * The first failure is kept and named in every later error.
   */
  fail(error: unknown): Error {
    if (!this.failure) {
      const reason = error instanceof Error ? error.message : String(error);
      this.failure = storageError(
        (error as { code?: string })?.code === "STORAGE_LOCKED" ? "STORAGE_LOCKED" : "STORAGE",
        `${this.dir} stopped accepting writes after a failure (${reason.replace(/^storage-fs: /, "")}); close and reopen the store`,
        this.dir,
        error,
      );
    }
    return this.failure;
  }

  /** Throws if the engine has failed or closed. */
  check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw storageError("STORAGE", `${this.dir} is closed`, this.dir);
  }

  /** Registers a change listener (one per FileStorage handle). */
  listen(listener: (change: StorageChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every handle about a durable change. */
  notify(change: StorageChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private async closeParts(): Promise<void> {
    // Each part drains its pending writes before closing its files.
    const parts = [this.approvals, this.orders, this.audit, this.executions];
    await this.schedules?.drain().catch(() => {});
    for (const part of parts) await part?.close().catch(() => {});
  }

  /** Drains pending writes and background work, closes files, releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeParts();
    await this.lock.release();
  }
}

/** True if process `pid` exists (signal 0 probes without signalling). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Deletes temp files that interrupted atomic writes left in the store folder (their content was
 * never acknowledged). A lock temp file of a live process is left alone: that process is trying
 * to take the lock right now and cleans up after itself.
 */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw ioError("list", dir, error);
  }
  for (const name of names) {
    if (!isTempName(name)) continue;
    const lockTemp = /^\.LOCK\.(\d+)-/.exec(name);
    if (name.startsWith(`.${LOCK_FILE}.`) && (!lockTemp || processExists(Number(lockTemp[1])))) continue;
    await unlink(join(dir, name)).catch(() => {});
  }
}
