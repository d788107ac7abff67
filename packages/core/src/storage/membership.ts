/**
 * Cluster membership (see {@link Storage.heartbeat}): which scheduler instances sharing a storage
 * are alive, so they can split the due fires between them. Exactly-once never depends on it: a
 * stale list only makes two instances try the same fire, and the claim decides.
 */

import { ValidationError } from "../errors.js";

/** Longest instance id a storage accepts (the scheduler's `host:pid:random` is far shorter). */
export const MAX_INSTANCE_ID_LENGTH = 200;

/**
 * Checks the arguments of a heartbeat (a non-empty instance id, instants that are finite
 * numbers); throws a ValidationError naming the field. Every storage calls it first.
 */
export function checkHeartbeat(instanceId: string, now: number, expiresAt: number): void {
  const bad = (field: string, message: string) =>
    new ValidationError([{ field, code: "VALIDATION", message }], { component: "storage" });
  if (
    typeof instanceId !== "string" ||
    instanceId.length === 0 ||
    instanceId.length > MAX_INSTANCE_ID_LENGTH
  ) {
    throw bad("instanceId", `must be a string of 1-${MAX_INSTANCE_ID_LENGTH} characters`);
  }
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw bad("now", `must be an instant (epoch ms), got ${String(now)}`);
  }
  if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt)) {
    throw bad("expiresAt", `must be an instant (epoch ms), got ${String(expiresAt)}`);
  }
}

/**
 * The live instances of storages that live in one process (MemoryStorage, FileStorage): every
 * scheduler on the storage beats into one table, so several schedulers sharing it in tests see
 * each other as they would on PostgreSQL.
 */
export class MembershipTable {
  /** Instance id → the instant its membership expires. */
  private readonly until = new Map<string, number>();

  /** See {@link Storage.heartbeat}: records the beat and returns the live ids, sorted. */
  beat(instanceId: string, now: number, expiresAt: number): string[] {
    checkHeartbeat(instanceId, now, expiresAt);
    if (expiresAt > now) this.until.set(instanceId, expiresAt);
    else this.until.delete(instanceId);
    const live: string[] = [];
    for (const [id, expires] of this.until) {
      // Expired members are forgotten, so the table never outgrows the instances really alive.
      if (expires > now) live.push(id);
      else this.until.delete(id);
    }
    // Code-unit order, as PostgreSQL's COLLATE "C" and SQLite's BINARY sort them.
    return live.sort();
  }
}
