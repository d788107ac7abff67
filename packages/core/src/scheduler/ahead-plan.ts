/**
 * When the loop claims a group of fires ahead of their instant (option `claimAheadMs`): for an
 * instant with at least {@link CLAIM_AHEAD_MIN} fires due, it first wakes
 * {@link MAX_CLAIM_AHEAD_MS} before it to count the group, then claims it early enough for its
 * claims to be made by the instant (`claimAheadMs`, plus the group's size times what a fire's
 * claim took in the last groups), so that a group of 100,000 is not started at the speed of its
 * claims. The count walks only the entries due by the instant, once per instant.
 */

import type { FireQueue, QueueEntry } from "./fire-queue.js";

/** The fewest fires due together at one instant that are claimed ahead: for a few, the claim is not what makes the last late. */
export const CLAIM_AHEAD_MIN = 64;
/** The earliest a group is claimed before its instant, however large it is. */
export const MAX_CLAIM_AHEAD_MS = 1000;
/** What a fire's claim ahead is assumed to cost before one was measured (code not yet compiled). */
const FIRST_US_PER_FIRE = 20;

/** What the plan needs. */
export interface AheadPlanDeps {
  queue: FireQueue<QueueEntry>;
  /** The least lead (option `claimAheadMs`); 0: never claim ahead. */
  claimAheadMs: number;
  /** True while fires may be claimed ahead (this instance is the only live one on its storage). */
  canClaimAhead(): boolean;
}

/** The lead of the next group claimed ahead, and what claiming ahead cost so far. */
export class AheadPlan {
  private plannedAt = Number.NaN;
  private lead = 0;
  /** The last instant whose fires were claimed ahead: its wake at the instant claims none ahead. */
  private claimedAt = Number.NaN;
  private usPerFire = FIRST_US_PER_FIRE;

  constructor(private readonly deps: AheadPlanDeps) {}

  /** When the loop should wake for its head due at `at`: the instant, or before it to plan or claim. */
  wakeAt(at: number, now: number): number {
    if (!this.eligible(at, now)) return at;
    return this.plannedAt === at ? at - this.lead : at - MAX_CLAIM_AHEAD_MS;
  }

  /** On a wake before `at`: true when the group due at `at` is to be claimed now (planned on the first look). */
  due(at: number, now: number): boolean {
    if (at - now > MAX_CLAIM_AHEAD_MS || !this.eligible(at, now)) return false;
    if (this.plannedAt !== at) {
      const count = this.deps.queue.countDue(at, Number.POSITIVE_INFINITY);
      this.plannedAt = at;
      this.lead = Math.min(
        MAX_CLAIM_AHEAD_MS,
        this.deps.claimAheadMs + Math.ceil((count * this.usPerFire) / 1000),
      );
    }
    return at - now <= this.lead;
  }

  /** The instant whose group was last claimed ahead (NaN: none yet). */
  get claimedInstant(): number {
    return this.claimedAt;
  }

  /** The group due at `at` is being claimed ahead. */
  claiming(at: number): void {
    this.claimedAt = at;
  }

  /** A batch of `fires` popped and claimed ahead in `ms` (the synchronous part, wall time). */
  measured(fires: number, ms: number): void {
    if (fires < CLAIM_AHEAD_MIN) return;
    this.usPerFire = 0.5 * this.usPerFire + 0.5 * ((ms * 1000) / fires);
  }

  private eligible(at: number, now: number): boolean {
    const { claimAheadMs, queue } = this.deps;
    return (
      claimAheadMs > 0 &&
      at > now &&
      at !== this.claimedAt &&
      this.deps.canClaimAhead() &&
      queue.countDue(at, CLAIM_AHEAD_MIN) >= CLAIM_AHEAD_MIN
    );
  }
}
