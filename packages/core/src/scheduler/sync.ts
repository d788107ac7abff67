/**
 * What comes in from the storage: changes other instances made (change notifications where the
 * storage has them, a poll otherwise), each stored record checked before it is armed (a refused
 * one is reported once and named by health), and this instance's own writes told apart from news.
 */

import { TradecronError, toError } from "../errors.js";
import type { ScheduleRecord } from "../storage/records.js";
import type { Storage, StorageChange } from "../storage/storage.js";
import { isCorruptRecord, storedScheduleProblem } from "../storage/stored-records.js";
import { compileTrigger } from "../triggers/compile.js";
import type { Trigger } from "../triggers/trigger.js";
import type { Controls } from "./controls.js";
import type { Gate } from "./gate.js";
import type { Registry } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { TrustReport } from "./trust.js";

/** What the sync needs. */
export interface SyncDeps {
  storage: Storage;
  reporter: Reporter;
  gate: Gate;
  registry: Registry;
  controls: Controls;
  trust: TrustReport;
}

/** Keeps the registry in step with the storage. */
export class Sync {
  /** Revisions this instance is writing itself; change notifications of them are not news. */
  private readonly ownWrites = new Map<string, number>();

  constructor(private readonly deps: SyncDeps) {}

  /** Writes a schedule this instance changed and adopts it, ignoring the echo of its own change notification. */
  async writeOwn(
    record: ScheduleRecord,
    write: () => Promise<void>,
    trigger: Trigger,
    lastAt?: number,
  ): Promise<void> {
    // Frozen before the write: storage may then keep this very object instead of a copy.
    Object.freeze(record);
    this.ownWrites.set(record.id, record.revision);
    try {
      await write();
      this.deps.registry.adopt(record, trigger, lastAt);
    } finally {
      if (this.ownWrites.get(record.id) === record.revision) this.ownWrites.delete(record.id);
    }
  }

  /**
   * {@link Sync.writeOwn} for a batch written in one call (`Scheduler.createSchedules`): every
   * record is marked as this instance's own before the write, and adopted after it by `adopt`
   * (which arms them all with the timer held once).
   */
  async writeOwnMany(
    records: readonly ScheduleRecord[],
    write: () => Promise<void>,
    adopt: () => void,
  ): Promise<void> {
    for (const record of records) {
      Object.freeze(record);
      this.ownWrites.set(record.id, record.revision);
    }
    try {
      await write();
      adopt();
    } finally {
      for (const record of records) {
        if (this.ownWrites.get(record.id) === record.revision) this.ownWrites.delete(record.id);
      }
    }
  }

  /** Reads every schedule and the control record, and applies what changed (storages that cannot notify). */
  async poll(): Promise<void> {
    const { storage, reporter, registry } = this.deps;
    try {
      this.deps.controls.changed(await this.deps.controls.read());
      const records = await storage.listSchedules();
      reporter.storageOk();
      const seen = new Set<string>();
      for (const record of records) {
        seen.add(record.id);
        const st = registry.states.get(record.id);
        if (!st || st.record.revision !== record.revision) this.adoptChanged(record);
      }
      for (const id of [...registry.states.keys()]) if (!seen.has(id)) registry.drop(id);
      this.deps.trust.retain(seen);
    } catch (error) {
      reporter.storageFailed(error, "syncing from storage");
    }
  }

  /** Applies one change notification of the storage. */
  onChange(change: StorageChange): void {
    const { storage, reporter, registry, controls } = this.deps;
    if (!this.deps.gate.started) return;
    if (change.type === "control") {
      reporter.background(
        controls.read().then((control) => controls.changed(control)),
        "applying a control change",
      );
    } else if (change.type === "schedule") {
      if (change.revision !== undefined && this.holds(change.id, change.revision)) return;
      reporter.background(
        storage.getSchedule(change.id).then(
          (record) => {
            if (record) this.adoptChanged(record);
            else {
              registry.drop(change.id);
              this.deps.trust.clear(change.id);
            }
          },
          (error: unknown) => {
            if (!isCorruptRecord(error)) throw error;
            const reason = (error.details as { reason?: unknown } | undefined)?.reason;
            this.refuse(change.id, typeof reason === "string" ? reason : error.message);
          },
        ),
        `applying a change of schedule ${change.id}`,
      );
    }
  }

  /**
   * True when this instance holds (or is writing) revision `revision` of the schedule or a later
   * one: a change notification of it is not news (the echo of an own write, above all, of which a
   * bulk create makes thousands), and the read-back would be dropped by `adoptChanged` anyway.
   */
  private holds(id: string, revision: number): boolean {
    const known = this.deps.registry.states.get(id);
    return (
      (known !== undefined && known.record.revision >= revision) || (this.ownWrites.get(id) ?? 0) >= revision
    );
  }

  /** Adopts a record read from storage if it is trusted and newer than what this instance knows. */
  adoptChanged(record: ScheduleRecord): void {
    if (!this.trusted(record)) return;
    // The echo of an own write, or old news: nothing to compile.
    if (this.holds(record.id, record.revision)) return;
    this.deps.registry.adopt(record, this.compiled(record));
  }

  /**
   * True when a stored record passes the same checks as input (the storage's own checks may be
   * structural only, or missing in a storage of your own). A refused one is reported once, never
   * armed, and named by health until it is fixed.
   */
  trusted(record: ScheduleRecord): boolean {
    const problem = storedScheduleProblem(record);
    if (problem === null) return true;
    const id = problem.id ?? String((record as { id?: unknown }).id);
    this.refuse(id, problem.reason);
    return false;
  }

  private refuse(id: string, reason: string): void {
    this.deps.registry.drop(id);
    if (this.deps.trust.refuse(id, reason)) {
      this.deps.reporter.reportError(
        new TradecronError("STORAGE_CORRUPT", `stored schedule '${id}' is not armed: ${reason}`, {
          details: { scheduleId: id, reason },
        }),
        `checking stored schedule ${id}`,
      );
    }
  }

  /** The schedule's trigger, or null (reported, and named by health) when it does not compile. */
  compiled(record: ScheduleRecord): Trigger | null {
    try {
      const trigger = compileTrigger(record.trigger, record.id);
      this.deps.trust.clear(record.id);
      return trigger;
    } catch (error) {
      this.deps.trust.cannotCompile(record.id, toError(error).message);
      this.deps.reporter.reportError(error, `compiling the trigger of stored schedule ${record.id}`);
      return null;
    }
  }
}
