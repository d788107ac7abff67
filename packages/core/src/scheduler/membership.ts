/**
 * Cluster membership, the scheduler's side of `Storage.heartbeat`: which instances sharing the
 * storage are alive, so they split the due fires instead of all racing for each one. Every fire
 * has one preferred claimer, `live[hash(scheduleId, at) % live.length]`; the others hold the fire
 * back for a short step-in delay (deferred-fires.ts) before they claim it too. Exactly-once never
 * depends on this: the claim decides, as ever. A stale list only makes two instances try a fire
 * at the same moment, or one try it a step-in later.
 */

import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { Reporter } from "./reporter.js";

/** What membership needs. */
export interface MembershipDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  reporter: Reporter;
  /** How long a beat keeps this instance in the live list (a few maintenance turns). */
  ttlMs: number;
}

/** FNV-1a offset basis and prime (32-bit). */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * A stable 32-bit hash of a fire, FNV-1a over the schedule id's UTF-16 code units and then the
 * eight bytes of the instant (as two 32-bit halves): the same on every instance and process, and
 * spread enough that consecutive fires of one schedule land on different instances.
 */
export function fireHash(scheduleId: string, at: number): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < scheduleId.length; i++) {
    h ^= scheduleId.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  // Written out, not a loop over [low, high]: a burst hashes every due fire on every instance,
  // often before the JIT has compiled this, and the interpreter pays for each array and iterator.
  h = hashWord(h, at >>> 0);
  h = hashWord(h, Math.floor(at / 2 ** 32) >>> 0);
  return h >>> 0;
}

/** FNV-1a over the four bytes of `word`, low byte first. */
function hashWord(h: number, word: number): number {
  h = Math.imul(h ^ (word & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((word >>> 8) & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((word >>> 16) & 0xff), FNV_PRIME);
  return Math.imul(h ^ (word >>> 24), FNV_PRIME);
}

/** This instance's view of the live instances sharing its storage. */
export class Membership {
  /** The live instance ids, sorted (as the storage returns them); just this one until the first beat. */
  private live: readonly string[];
  /** Set by `leave()`: a stopping instance beats no more (maintenance still runs while it stops). */
  private left = false;

  constructor(private readonly deps: MembershipDeps) {
    this.live = [deps.instanceId];
  }

  /** True when the storage keeps a membership list (`Storage.heartbeat`). */
  get shared(): boolean {
    return typeof this.deps.storage.heartbeat === "function";
  }

  /** False while this instance is out of the live list (paused, stopping), until it rejoins. */
  get joined(): boolean {
    return !this.left;
  }

  /** The live instances as last seen, sorted. */
  get members(): readonly string[] {
    return this.live;
  }

  /**
   * Records that this instance is alive for another `ttlMs` and takes the live list. Called at
   * start and on every maintenance turn. A failed beat is reported and changes nothing: the list
   * in hand stays until a beat succeeds (a storage that cannot beat cannot claim either).
   */
  async beat(): Promise<void> {
    const { storage, clock, instanceId, reporter, ttlMs } = this.deps;
    if (!storage.heartbeat || this.left) return;
    const now = clock.now();
    try {
      const live = await storage.heartbeat(instanceId, now, now + ttlMs);
      reporter.storageOk();
      if (!this.left) this.live = live;
    } catch (error) {
      reporter.storageFailed(error, "cluster heartbeat");
    }
  }

  /** Joins again (at start after an earlier stop, at resume after a pause); the next beat lists it. */
  rejoin(): void {
    this.left = false;
  }

  /**
   * Leaves the live list at once (`expiresAt = now`), so the others stop waiting a step-in for
   * the fires this instance was preferred for. Called as stop() begins and on pause(): it claims
   * nothing new.
   */
  async leave(): Promise<void> {
    const { storage, clock, instanceId, reporter } = this.deps;
    this.left = true;
    this.live = [instanceId];
    if (!storage.heartbeat) return;
    const now = clock.now();
    try {
      await storage.heartbeat(instanceId, now, now);
    } catch (error) {
      // Not fatal: the entry lapses after ttlMs, and until then the others step in after a delay.
      reporter.storageFailed(error, "leaving the cluster");
    }
  }

  /**
   * Whether this instance is the preferred claimer of fire (scheduleId, at): always with one live
   * instance (or a storage without membership); else when the fire hashes to it. An instance
   * missing from the list (its beats failed) is preferred for nothing: the others count without
   * it, and it steps in like any other.
   */
  preferred(scheduleId: string, at: number): boolean {
    return this.preferredOf(scheduleId, at) === this.deps.instanceId;
  }

  /** The id of the preferred claimer of fire (scheduleId, at) among the live instances. */
  preferredOf(scheduleId: string, at: number): string {
    const live = this.live;
    if (live.length <= 1) return this.deps.instanceId;
    return live[fireHash(scheduleId, at) % live.length] as string;
  }
}
