/**
 * Schedules and the control record: few, small, edited by people, read at every start. Each is
 * one pretty-printed JSON file (`schedules/<id>.json`, `control.json`) that `cat` and `jq` read
 * directly, replaced atomically on every change (atomic-write.ts). All of them are held in memory.
 *
 * A change is applied in memory first, synchronously (so compare-and-set on the revision is
 * atomic), then written; the call resolves once the file is durable. Writes to one file run one at
 * a time in call order, and a read of a record waits for its pending write: nobody sees a version
 * a crash could still take back.
 *
 * Files are checked on load with core's record checks (the schemas of scheduler input): a
 * schedule file that fails them is moved to the quarantine and never handed out. A control file
 * that cannot be read is copied to the quarantine but left where it is, and reads as an error
 * (`STORAGE_CORRUPT`) until `setControl` replaces it: moving it away would make the next open
 * start unpaused, and an emergency switch must fail safe.
 */

import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, unlinkSync } from "node:fs";
import { mkdir as mkdirAsync, unlink } from "node:fs/promises";
import { join, sep } from "node:path";
import {
  ConflictError,
  type ControlRecord,
  corruptRecord,
  firstConflictingId,
  NotFoundError,
  type ScheduleRecord,
  scheduleExistsError,
  storedControlProblem,
  storedScheduleProblem,
  ValidationError,
} from "@tradecron/core";
import { fsyncDir, writeFileAtomic } from "./atomic-write.js";
import { ioError, sysCode } from "./errors.js";
import {
  CONTROL_FILE,
  isScheduleBatchName,
  isTempName,
  SCHEDULES_DIR,
  scheduleBatchName,
  scheduleFileName,
  scheduleIdOf,
} from "./layout.js";
import type { Quarantine } from "./quarantine.js";
import { deepFreeze, snapshot } from "./records.js";

/** What the schedule store needs from the store that owns it. */
export interface ScheduleContext {
  quarantine: Quarantine;
  fail(error: unknown): Error;
}

const DEFAULT_CONTROL: ControlRecord = Object.freeze({
  pausedAll: false,
  pausedAt: null,
  pausedBy: null,
  reason: null,
  revision: 0,
});

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** What a batch journal names of each schedule: enough to tell the batch's version of its file. */
interface BatchEntry {
  id: string;
  revision: number;
  updatedAt: number;
}

/** Why a batch journal read back is not one `insertMany` writes, or null. */
export function batchJournalProblem(v: unknown): string | null {
  const schedules = (v as { schedules?: unknown } | null)?.schedules;
  if (!Array.isArray(schedules)) return "not a batch insert journal ({ schedules: [...] })";
  for (const [i, e] of schedules.entries()) {
    const entry = e as Partial<BatchEntry> | null;
    if (
      !entry ||
      typeof entry.id !== "string" ||
      !Number.isInteger(entry.revision) ||
      !Number.isFinite(entry.updatedAt)
    )
      return `schedules[${i}] is not { id, revision, updatedAt }`;
  }
  return null;
}

/** Batch journals written by this process (their names must differ). */
let batchCount = 0;

/** Schedules and control of one store folder. */
export class ScheduleStore {
  private readonly records = new Map<string, ScheduleRecord>();
  private sorted: ScheduleRecord[] | null = null;
  private control: ControlRecord = DEFAULT_CONTROL;
  /** Why the control file could not be read at open, until `setControl` replaces it. */
  private controlProblem: string | null = null;
  /** Tail of the write chain per file key (schedule id, or "\0control"). */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly dir: string;

  private constructor(
    private readonly root: string,
    private readonly ctx: ScheduleContext,
  ) {
    this.dir = join(root, SCHEDULES_DIR);
  }

  /**
   * Loads every schedule and the control record. Reads are synchronous on purpose: ten thousand
   * small files load about five times faster than through the thread pool, and this runs once.
   * Unreadable or foreign files are quarantined and loading goes on.
   */
  static async open(root: string, ctx: ScheduleContext): Promise<ScheduleStore> {
    const store = new ScheduleStore(root, ctx);
    try {
      if (await mkdirAsync(store.dir, { recursive: true })) await fsyncDir(root);
    } catch (error) {
      throw ioError("create", store.dir, error);
    }
    let names: string[];
    try {
      names = readdirSync(store.dir);
    } catch (error) {
      throw ioError("list", store.dir, error);
    }
    // One buffer for every file: ten thousand reads allocate ten thousand strings, not also
    // ten thousand buffers (garbage collection was a fifth of the load time).
    const reader = new SmallFileReader();
    const prefix = store.dir + sep;
    for (const name of names) {
      const path = prefix + name;
      if (isTempName(name)) {
        // An atomic write interrupted before its rename: never acknowledged.
        try {
          unlinkSync(path);
        } catch {
          // gone already
        }
        continue;
      }
      const id = scheduleIdOf(name);
      if (id === null) {
        await ctx.quarantine.moveFile(path, "foreign", "not a schedule file name (<id>.json)");
        continue;
      }
      let problem: string | null;
      let value: unknown;
      try {
        value = JSON.parse(reader.read(path));
        // Registry-dependent checks (a calendar the host registers later) are the scheduler's.
        problem = storedScheduleProblem(value, { registry: false })?.reason ?? null;
        if (problem === null && (value as ScheduleRecord).id !== id) {
          problem = `holds schedule '${(value as ScheduleRecord).id}', not '${id}'`;
        }
      } catch (error) {
        if (sysCode(error) === "EISDIR") problem = "a folder where a schedule file belongs";
        else if (sysCode(error)) throw ioError("read", path, error);
        else problem = `not valid JSON (${error instanceof Error ? error.message : String(error)})`;
      }
      if (problem !== null) {
        await ctx.quarantine.moveFile(path, "corrupt", problem);
        continue;
      }
      store.records.set(id, deepFreeze(value as ScheduleRecord));
    }
    await store.rollBackBatches();
    await store.loadControl();
    return store;
  }

  /**
   * Takes back the batch inserts a crash interrupted (their journals are still there): each
   * schedule file that still holds the batch's version is deleted, so an unacknowledged batch
   * inserts none, as a transaction would, and a retry does not meet `SCHEDULE_EXISTS`. A file
   * changed since (another revision) is kept. A journal that cannot be read is quarantined and
   * its schedules kept: in doubt, nothing is deleted.
   */
  private async rollBackBatches(): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (error) {
      throw ioError("list", this.root, error);
    }
    for (const name of names) {
      if (!isScheduleBatchName(name)) continue;
      const path = join(this.root, name);
      let value: unknown;
      let problem: string | null;
      try {
        value = JSON.parse(readFileSync(path, "utf8"));
        problem = batchJournalProblem(value);
      } catch (error) {
        if (sysCode(error)) throw ioError("read", path, error);
        problem = `not valid JSON (${error instanceof Error ? error.message : String(error)})`;
      }
      if (problem !== null) {
        await this.ctx.quarantine.moveFile(
          path,
          "corrupt",
          `a batch insert journal that cannot be read (${problem}); its schedules are kept`,
        );
        continue;
      }
      let removed = 0;
      for (const entry of (value as { schedules: BatchEntry[] }).schedules) {
        const record = this.records.get(entry.id);
        if (!record || record.revision !== entry.revision || record.updatedAt !== entry.updatedAt) continue;
        try {
          unlinkSync(this.path(entry.id));
        } catch (error) {
          if (sysCode(error) !== "ENOENT") throw ioError("delete", this.path(entry.id), error);
        }
        this.records.delete(entry.id);
        removed++;
      }
      // The files are gone for good before the journal that says to delete them is.
      if (removed > 0) await fsyncDir(this.dir);
      try {
        unlinkSync(path);
      } catch (error) {
        if (sysCode(error) !== "ENOENT") throw ioError("delete", path, error);
      }
      await fsyncDir(this.root);
    }
  }

  private async loadControl(): Promise<void> {
    const path = join(this.root, CONTROL_FILE);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if (sysCode(error) === "ENOENT") return;
      throw ioError("read", path, error);
    }
    let problem: string | null;
    let value: unknown;
    try {
      value = JSON.parse(text);
      problem = storedControlProblem(value);
    } catch (error) {
      problem = `not valid JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    if (problem !== null) {
      await this.ctx.quarantine.keepCopy(
        path,
        "corrupt",
        `${problem}; left in place: the store reads as paused-all (getControl fails) until setControl replaces it`,
      );
      this.controlProblem = problem;
      return;
    }
    this.control = deepFreeze(value as ControlRecord);
  }

  private path(id: string): string {
    return join(this.dir, scheduleFileName(id));
  }

  /** Queues the write of key `key`; the promise settles when this write (and earlier ones) are durable. */
  private persist(key: string, write: () => Promise<void>): Promise<void> {
    const prev = this.pending.get(key) ?? Promise.resolve();
    const next = prev.then(write).catch((error: unknown) => {
      throw this.ctx.fail(error);
    });
    // The chain continues after a failure (the store is stopped by then anyway), and forgets
    // itself once it is the last write of its key.
    const tail: Promise<void> = next
      .catch(() => {})
      .finally(() => {
        if (this.pending.get(key) === tail) this.pending.delete(key);
      });
    this.pending.set(key, tail);
    return next;
  }

  private writeSchedule(id: string, after?: Promise<void>): Promise<void> {
    return this.persist(id, async () => {
      if (after) await after;
      const record = this.records.get(id);
      if (record) await writeFileAtomic(this.path(id), `${JSON.stringify(record, null, 2)}\n`);
      else {
        try {
          await unlink(this.path(id));
        } catch (error) {
          if (sysCode(error) !== "ENOENT") throw ioError("delete", this.path(id), error);
        }
        await fsyncDir(this.dir);
      }
    });
  }

  private checkId(id: string): void {
    if (typeof id !== "string" || !ID_RE.test(id)) {
      throw new ValidationError(
        [
          {
            field: "id",
            code: "VALIDATION",
            message:
              "a schedule id is 1-64 characters of A-Z a-z 0-9 _ . : - starting with a letter or digit",
          },
        ],
        { component: "storage-fs" },
      );
    }
  }

  /** Inserts a schedule; ConflictError `SCHEDULE_EXISTS` if the id is taken. */
  async insert(schedule: ScheduleRecord): Promise<void> {
    this.checkId(schedule.id);
    if (this.records.has(schedule.id)) {
      throw new ConflictError("SCHEDULE_EXISTS", `schedule '${schedule.id}' exists already`, { field: "id" });
    }
    this.records.set(schedule.id, snapshot(schedule).record);
    this.sorted = null;
    await this.writeSchedule(schedule.id);
  }

  /**
   * Inserts a batch of schedules (Storage.insertSchedules): checked whole and applied in memory
   * synchronously, so a taken or repeated id inserts none. All or none also against a crash: a
   * journal naming the batch is made durable first, then every file is written, at once, then
   * the journal is removed, durably, and only then does the call resolve. A kill -9 before that
   * leaves the journal, and the next open deletes the batch's files (`rollBackBatches`).
   */
  async insertMany(schedules: readonly ScheduleRecord[]): Promise<void> {
    for (const schedule of schedules) this.checkId(schedule.id);
    const conflict = firstConflictingId(schedules, (id) => this.records.has(id));
    if (conflict !== null) throw scheduleExistsError(conflict);
    for (const schedule of schedules) this.records.set(schedule.id, snapshot(schedule).record);
    this.sorted = null;
    const journal = join(this.root, scheduleBatchName(++batchCount));
    const entries: BatchEntry[] = schedules.map((s) => ({
      id: s.id,
      revision: s.revision,
      updatedAt: s.updatedAt,
    }));
    const journalDurable = writeFileAtomic(journal, `${JSON.stringify({ schedules: entries })}\n`);
    // Each file's write waits for the journal (it is queued at once, so reads of these ids wait
    // for it); a failed journal fails every write, which stops the store.
    journalDurable.catch(() => {});
    await Promise.all(schedules.map((schedule) => this.writeSchedule(schedule.id, journalDurable)));
    try {
      await unlink(journal).catch((error: unknown) => {
        throw ioError("delete", journal, error);
      });
      await fsyncDir(this.root);
    } catch (error) {
      throw this.ctx.fail(error);
    }
  }

  /** Replaces a schedule at `expectedRevision` (compare-and-set). */
  async update(schedule: ScheduleRecord, expectedRevision: number): Promise<void> {
    const current = this.records.get(schedule.id);
    if (!current) {
      throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${schedule.id}' not found`, { field: "id" });
    }
    if (current.revision !== expectedRevision) {
      throw new ConflictError(
        "REVISION_CONFLICT",
        `schedule '${schedule.id}' is at revision ${current.revision}, not ${expectedRevision}`,
        { field: "revision", details: { current: current.revision, expected: expectedRevision } },
      );
    }
    this.records.set(schedule.id, snapshot(schedule).record);
    this.sorted = null;
    await this.writeSchedule(schedule.id);
  }

  /** The schedule, after any pending write of it is durable. */
  async get(id: string): Promise<ScheduleRecord | null> {
    await this.pending.get(id);
    return this.records.get(id) ?? null;
  }

  /** Every schedule ordered by id, after pending writes are durable. */
  async list(): Promise<ScheduleRecord[]> {
    if (this.pending.size > 0) await Promise.all(this.pending.values());
    this.sorted ??= [...this.records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return [...this.sorted];
  }

  /** Deletes a schedule; false if it did not exist. */
  async delete(id: string): Promise<boolean> {
    if (!this.records.has(id)) {
      await this.pending.get(id);
      return false;
    }
    this.records.delete(id);
    this.sorted = null;
    await this.writeSchedule(id);
    return true;
  }

  /** The control record; throws `STORAGE_CORRUPT` while the file found at open is unreadable. */
  async getControl(): Promise<ControlRecord> {
    await this.pending.get("\u0000control");
    if (this.controlProblem !== null) {
      throw corruptRecord(
        "storage-fs",
        "control",
        null,
        `${join(this.root, CONTROL_FILE)}: ${this.controlProblem}`,
      );
    }
    return this.control;
  }

  /** Why the control file is unreadable, or null. */
  get unreadableControl(): string | null {
    return this.controlProblem;
  }

  /** Replaces the control record (also an unreadable one). */
  async setControl(control: ControlRecord): Promise<void> {
    this.control = snapshot(control).record;
    this.controlProblem = null;
    await this.persist("\u0000control", () =>
      writeFileAtomic(join(this.root, CONTROL_FILE), `${JSON.stringify(this.control, null, 2)}\n`),
    );
  }

  /** True if a schedule with this id is stored. */
  has(id: string): boolean {
    return this.records.has(id);
  }

  /** Number of schedules. */
  get size(): number {
    return this.records.size;
  }

  /** Waits for every pending write. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending.values());
  }
}

/** Reads small files whole through one reusable buffer (open, read, close: no stat, no per-file Buffer). */
class SmallFileReader {
  private buf = Buffer.allocUnsafe(64 * 1024);

  read(path: string): string {
    const fd = openSync(path, "r");
    try {
      let n = 0;
      for (;;) {
        if (n === this.buf.length) {
          // Larger than the buffer so far: grow to the file's size (rare for a schedule).
          const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, fstatSync(fd).size + 1));
          this.buf.copy(grown, 0, 0, n);
          this.buf = grown;
        }
        const got = readSync(fd, this.buf, n, this.buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
      return this.buf.toString("utf8", 0, n);
    } finally {
      closeSync(fd);
    }
  }
}
