/**
 * The loop that waits: one timer for the head of the fire queue, each wait capped at
 * `maxWaitMs` (no setTimeout overflow; a suspended machine notices the time on waking). On waking
 * it compares the wall clock with what it expected (a timer that fired early, late, or a clock
 * that went backwards is a `timer:drift` event) and starts what is due, batch by batch.
 */

import type { Clock } from "../time/clock.js";
import type { Trigger } from "../triggers/trigger.js";
import type { AheadPlan } from "./ahead-plan.js";
import type { FireQueue } from "./fire-queue.js";
import type { Gate } from "./gate.js";
import type { ScheduleState, Timer } from "./registry.js";
import type { Reporter } from "./reporter.js";

/**
 * Fires started together before the loop waits for their handlers to start (see `fireDue`): the
 * first batch of a burst is small, so its first handlers start at once, and each next one twice
 * the size up to `FIRE_BATCH`, so a burst of thousands costs few batch claims and keeps its working
 * set to one batch.
 */
const FIRST_BATCH = 64;
const FIRE_BATCH = 1024;

/** Resolves at the next turn of the event loop, after pending I/O callbacks. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the loop needs. */
export interface LoopDeps {
  clock: Clock;
  maxWaitMs: number;
  reporter: Reporter;
  gate: Gate;
  queue: FireQueue<ScheduleState>;
  /** Claims and starts fires due now, on time (the dispatcher); never rejects. */
  dispatchDue(sts: readonly ScheduleState[], ats: readonly number[]): Promise<void>;
  /** Plans a schedule whose fire is late or has company due (the registry's misfire planning). */
  processDue(st: ScheduleState, now: number): void;
  /**
   * Holds back the outcome writes of runs that finish at once while a burst is started batch by
   * batch (until `releaseOutcomes`), so that every fire of the burst starts before them.
   */
  holdOutcomes(): void;
  releaseOutcomes(): void;
  /** When groups of fires due together are claimed ahead of their instant. */
  aheadPlan: AheadPlan;
  /** Claims fires due at `at` (still ahead) now and starts them at `at` (the dispatcher); never rejects. */
  dispatchAhead(sts: readonly ScheduleState[], ats: readonly number[], at: number): Promise<void>;
}

/** The timer loop of one scheduler. */
export class Loop implements Timer {
  /** When this instance last showed it is alive (a wake, a maintenance turn, the start). */
  heartbeatAt: number | null = null;
  private timer: unknown = null;
  /** True while a burst of due fires is being started batch by batch; the timer waits for it. */
  private draining = false;
  private timerSetAt = 0;
  private timerDelay = 0;
  private lastWakeAt: number | null = null;
  /** Open {@link Loop.holding} calls: while any is, `schedule()` leaves the timer alone. */
  private held = 0;

  constructor(private readonly deps: LoopDeps) {}

  /** True while a timer is set (maintenance re-arms a loop that lost it). */
  get armed(): boolean {
    return this.timer !== null;
  }

  clear(): void {
    if (this.timer !== null) {
      this.deps.clock.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /**
   * Runs `arm` with the timer held, then re-arms it once: arming n schedules costs one timer
   * reschedule instead of n (`Scheduler.createSchedules`).
   */
  holding(arm: () => void): void {
    this.held++;
    try {
      arm();
    } finally {
      this.held--;
      this.schedule();
    }
  }

  schedule(): void {
    if (this.held > 0) return;
    const { clock, gate } = this.deps;
    if (!gate.canFire()) {
      this.clear();
      return;
    }
    if (this.draining) return;
    const head = this.deps.queue.peek();
    const now = clock.now();
    const wakeAt = head ? this.deps.aheadPlan.wakeAt(head.at, now) : now + this.deps.maxWaitMs;
    const delay = Math.min(Math.max(0, wakeAt - now), this.deps.maxWaitMs);
    if (this.timer !== null && this.timerSetAt + this.timerDelay === now + delay) return;
    this.clear();
    this.timerSetAt = now;
    this.timerDelay = delay;
    this.timer = clock.setTimeout(() => this.wake(), delay);
  }

  private wake(): void {
    this.timer = null;
    const now = this.deps.clock.now();
    this.heartbeatAt = now;
    const expected = this.timerSetAt + this.timerDelay;
    const { reporter } = this.deps;
    if (this.lastWakeAt !== null && now < this.lastWakeAt) {
      reporter.emit("timer:drift", {
        kind: "backwards",
        expectedAt: expected,
        at: now,
        byMs: this.lastWakeAt - now,
      });
    } else if (now < expected - 1) {
      reporter.emit("timer:drift", { kind: "early", expectedAt: expected, at: now, byMs: expected - now });
    }
    this.lastWakeAt = now;
    const head = this.deps.queue.peek();
    if (head !== undefined && head.at > now && this.deps.aheadPlan.due(head.at, now)) this.fireAhead(head.at);
    this.fireDue(now);
  }

  /**
   * The instant whose fires were last claimed ahead of it (NaN: none). Until it comes, it is the
   * next fire of the schedules taken for it, though their queue entries have moved past it.
   */
  get aheadAt(): number {
    return this.deps.aheadPlan.claimedInstant;
  }

  /**
   * Claims the fires due at `at`, still ahead, now; the dispatcher starts them at `at`. Only the
   * plain case is taken ahead, a fire due alone on its schedule (its next one is later); the
   * first that is not, and everything after it, waits for the wake at the instant. A batch of
   * {@link FIRE_BATCH} at a time, the next at the next turn of the event loop (I/O is not held up
   * by a group of 100,000), until the instant: what is left then is the wake's, as before.
   */
  private fireAhead(at: number): void {
    const { aheadPlan, clock, gate, queue } = this.deps;
    if (!gate.canFire() || clock.now() >= at) return;
    aheadPlan.claiming(at);
    const began = performance.now();
    const sts: ScheduleState[] = [];
    const ats: number[] = [];
    for (let head = queue.peek(); head && head.at === at && sts.length < FIRE_BATCH; head = queue.peek()) {
      if (!this.takeHead(head, at)) break;
      sts.push(head);
      ats.push(at);
    }
    if (sts.length === 0) return;
    void this.deps.dispatchAhead(sts, ats, at);
    aheadPlan.measured(sts.length, performance.now() - began);
    if (sts.length === FIRE_BATCH && queue.peek()?.at === at) setImmediate(() => this.fireAhead(at));
  }

  /**
   * Takes the queue's head as a plain fire if its schedule's next fire is later than `by` (else
   * it has company due and is the planner's): the head moves to that next fire in one pass down
   * the queue (so `head.at` is the next fire afterwards; the fire taken is `head.lastAt`), or
   * leaves it after its last. False, and nothing moved, otherwise.
   */
  private takeHead(head: ScheduleState, by: number): boolean {
    const following = (head.trigger as Trigger).next(head.at);
    if (following !== null && following <= by) return false;
    head.lastAt = head.at;
    if (following !== null) this.deps.queue.replaceHead(head, following);
    else this.deps.queue.pop();
    return true;
  }

  /**
   * Starts the fires due at `now`, in batches of {@link FIRST_BATCH} growing to {@link FIRE_BATCH}:
   * the next batch starts once
   * the handlers of this one have (each fire's claim and start are a few microtasks), so a burst of
   * thousands keeps a small working set and the first handlers start at once, instead of every
   * claim of the burst being made before the first handler runs. Every batch counts as on time
   * against the same `now`.
   */
  private fireDue(now: number, batch = FIRST_BATCH, holding = false): void {
    const { gate, queue, reporter } = this.deps;
    if (!gate.canFire()) {
      if (holding) this.deps.releaseOutcomes();
      return;
    }
    // The due fires that are on time and alone, handed to the dispatcher together (one batch
    // claim), flushed before anything else is started so claims go out in queue order.
    let sts: ScheduleState[] = [];
    let ats: number[] = [];
    let started = 0;
    const pending: Promise<void>[] = [];
    const flush = () => {
      if (sts.length === 0) return;
      pending.push(this.deps.dispatchDue(sts, ats));
      started += sts.length;
      sts = [];
      ats = [];
    };
    for (let head = queue.peek(); head && head.at <= now; head = queue.peek()) {
      if (started + sts.length >= batch) {
        flush();
        this.clear();
        this.draining = true;
        // A fire that waits for an earlier run (overlap `buffer_*`) or for a remote storage must not
        // hold the rest: the next batch also starts at the next turn of the event loop.
        if (!holding) this.deps.holdOutcomes();
        void Promise.race([Promise.all(pending), nextTurn()]).then(() => {
          this.draining = false;
          try {
            this.fireDue(now, Math.min(batch * 2, FIRE_BATCH), true);
          } catch (error) {
            // Never leave the outcomes held (stop() waits for those runs), nor the failure unseen.
            this.deps.releaseOutcomes();
            reporter.reportError(error, "starting due fires");
            this.schedule();
          }
        });
        return;
      }
      const late = now - head.at;
      if (late > head.record.misfire.toleranceMs) {
        queue.pop();
        flush();
        reporter.emit("timer:drift", { kind: "late", expectedAt: head.at, at: now, byMs: late });
      } else {
        const at = head.at;
        if (this.takeHead(head, now)) {
          // The common case: exactly one fire due and on time.
          sts.push(head);
          ats.push(at);
          continue;
        }
        queue.pop();
        flush();
      }
      this.deps.processDue(head, now);
    }
    flush();
    if (holding) this.deps.releaseOutcomes();
    this.schedule();
  }
}
