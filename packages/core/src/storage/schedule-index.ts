/**
 * MemoryStorage's index of one schedule's executions: the execution id of each instant (the
 * claim index), the schedule's last own fire, and its active executions. One object per
 * schedule, found with one lookup: a claim used to look the schedule up in three maps and made a
 * map of instants for every schedule, though most one-off schedules only ever fire once.
 */

/** One schedule's executions, as MemoryStorage indexes them. */
export class ScheduleIndex {
  /** The latest instant of the schedule's own fires (scheduled, catch-up), or null. */
  last: number | null = null;
  /** The active executions: none, one id, or a set when several are active (rare). */
  active: string | Set<string> | null = null;
  /** The first instant and its id, kept inline until a second instant needs `byInstant`. */
  private firstAt = 0;
  private firstId: string | null = null;
  /** Execution id by instant, in claim order, once the schedule has had two instants. */
  private byInstant: Map<number, string> | null = null;

  /** How many instants are indexed. */
  get size(): number {
    return this.byInstant !== null ? this.byInstant.size : this.firstId === null ? 0 : 1;
  }

  /** The execution id of instant `at`, if any. */
  get(at: number): string | undefined {
    if (this.byInstant !== null) return this.byInstant.get(at);
    return this.firstId !== null && this.firstAt === at ? this.firstId : undefined;
  }

  /** Indexes execution `id` at instant `at` (replacing what was there). */
  set(at: number, id: string): void {
    if (this.byInstant !== null) {
      this.byInstant.set(at, id);
    } else if (this.firstId === null || this.firstAt === at) {
      this.firstAt = at;
      this.firstId = id;
    } else {
      this.byInstant = new Map([[this.firstAt, this.firstId]]);
      this.byInstant.set(at, id);
      this.firstId = null;
    }
  }

  /** Drops instant `at` if it indexes execution `id`. */
  delete(at: number, id: string): void {
    if (this.byInstant !== null) {
      if (this.byInstant.get(at) === id) this.byInstant.delete(at);
    } else if (this.firstId === id && this.firstAt === at) {
      this.firstId = null;
    }
  }

  /** The indexed execution ids, in claim order (a live view while `byInstant` is in use). */
  *ids(): IterableIterator<string> {
    if (this.byInstant !== null) yield* this.byInstant.values();
    else if (this.firstId !== null) yield this.firstId;
  }

  /** Notes execution `id` as active. */
  activate(id: string): void {
    const ids = this.active;
    if (ids === null) this.active = id;
    else if (typeof ids === "string") {
      if (ids !== id) this.active = new Set([ids, id]);
    } else ids.add(id);
  }

  /** Notes execution `id` as no longer active. */
  deactivate(id: string): void {
    const ids = this.active;
    if (ids === id) this.active = null;
    else if (ids !== null && typeof ids !== "string") {
      ids.delete(id);
      if (ids.size === 1) this.active = ids.values().next().value as string;
      else if (ids.size === 0) this.active = null;
    }
  }

  /** True when nothing about the schedule is left to keep. */
  get empty(): boolean {
    return this.last === null && this.active === null && this.size === 0;
  }
}
