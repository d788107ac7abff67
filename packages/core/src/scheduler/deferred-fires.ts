/**
 * Fires held back for the step-in delay: a due fire this instance is not the preferred claimer
 * of (membership.ts) waits `stepInMs`, and then steps in. By then the preferred instance has
 * normally claimed it: one read for the batch (`Storage.fireHolders`) finds the fires already
 * held (`fire:taken`), and only those still free are claimed, so an extra instance costs a read
 * per held batch, not a losing claim per fire. If the preferred instance is paused, lacks the
 * job, or died, the claim wins and the fire runs a step-in late. Nothing here is claimed:
 * dropping what is held (stop, pause) loses no fire another instance holds.
 *
 * A preferred instance that is busy rather than gone (a burst of thousands takes it longer than
 * the step-in to claim its share) shows it in the probe: it holds some of the batch's fires of
 * the same job (one that lacks the job holds none of that job's, and is stepped in for at once).
 * Its still-free fires then wait another step-in instead of being claimed by everyone at once
 * (three instances racing for the tail of a burst cost about a fifth of their throughput), up to
 * {@link MAX_STEP_IN_WAITS} step-ins and never past half the misfire tolerance.
 */

import type { FireKind } from "../storage/records.js";
import type { FireRef, Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { FireOutcome } from "./dispatcher.js";
import type { Gate } from "./gate.js";
import type { Membership } from "./membership.js";
import type { ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";

/**
 * Default step-in delay: 250 ms, well below the misfire tolerance (30 s by default) and above a
 * batch claim's round trip under load. Measured on a 2-core machine with PostgreSQL on the same
 * box (bench/storage-sql.bench.mjs, 10,000 fires, 3 instances, interleaved runs): with the
 * `fireHolders` probe, 8,400-8,800 jobs/s at 113-119 µs of worker CPU per job, against
 * 3,600-7,200 jobs/s at 128-142 µs with every instance claiming every fire (0).
 */
export const DEFAULT_STEP_IN_MS = 250;

/**
 * How many step-ins a fire waits at most while its preferred instance is seen claiming the same
 * batch (busy, not gone): 8 x 250 ms by default.
 */
export const MAX_STEP_IN_WAITS = 8;

/** Held fires handed to the dispatcher per turn of the event loop when they step in together. */
const STEP_IN_BATCH = 1024;

/** What a deferred fire resolves to: not claimed here (not yet). */
const HELD: FireOutcome = Object.freeze({
  claimed: false,
  execution: null,
  done: Promise.resolve(null),
});

/** What the holder needs. */
export interface DeferredFiresDeps {
  clock: Clock;
  gate: Gate;
  reporter: Reporter;
  membership: Membership;
  /** The step-in delay (option `stepInMs`); 0 turns deferral off. */
  stepInMs: number;
  /** Claims and starts one fire (the dispatcher). */
  fire(st: ScheduleState, at: number, kind: FireKind, actor: string | null): Promise<FireOutcome>;
  /** Claims and starts scheduled fires due together, in one batch claim (the dispatcher). */
  dispatchDue(sts: readonly ScheduleState[], ats: readonly number[]): Promise<void>;
  /** True while the schedule is still armed here and may fire (not removed, paused or disabled since). */
  stillArmed(st: ScheduleState): boolean;
  /** The storage's probe of who holds fires, if it has one (bound). */
  fireHolders?: Storage["fireHolders"];
}

interface Held {
  st: ScheduleState;
  at: number;
  /** When it steps in. */
  due: number;
  /** When it was first held. */
  heldAt: number;
}

/** The fires this instance holds back for the step-in delay. */
export class DeferredFires {
  /** In the order they were held, which is the order they step in (one delay for all). */
  private queue: Held[] = [];
  private head = 0;
  private timer: unknown = null;

  constructor(private readonly deps: DeferredFiresDeps) {}

  /** How many fires are held. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /**
   * The dispatcher's `fire` for the loop and the arming: a scheduled fire this instance is not
   * preferred for is held and resolves as not claimed; everything else goes straight on. Manual
   * fires, backfills and catch-ups are never held, nor fires of a schedule whose misfire
   * tolerance is not above the step-in (held, they would start later than it allows).
   */
  fire(st: ScheduleState, at: number, kind: FireKind, actor: string | null): Promise<FireOutcome> {
    const { stepInMs, membership } = this.deps;
    if (
      kind !== "scheduled" ||
      actor !== null ||
      stepInMs === 0 ||
      st.record.misfire.toleranceMs <= stepInMs ||
      membership.preferred(st.record.id, at)
    ) {
      return this.deps.fire(st, at, kind, actor);
    }
    const now = this.deps.clock.now();
    this.queue.push({ st, at, due: now + stepInMs, heldAt: now });
    if (this.timer === null) this.arm();
    return Promise.resolve(HELD);
  }

  /**
   * The dispatcher's `dispatchDue` for the loop: the fires this instance is preferred for (or
   * may not hold, as in {@link DeferredFires.fire}) go on as one batch; the others are held and
   * step in together, as one batch claim of their own.
   */
  dispatchDue(sts: readonly ScheduleState[], ats: readonly number[]): Promise<void> {
    const { stepInMs, membership } = this.deps;
    if (stepInMs === 0 || !membership.shared) return this.deps.dispatchDue(sts, ats);
    const now = this.deps.clock.now();
    const goSts: ScheduleState[] = [];
    const goAts: number[] = [];
    const before = this.queue.length;
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i] as ScheduleState;
      const at = ats[i] as number;
      if (st.record.misfire.toleranceMs <= stepInMs || membership.preferred(st.record.id, at)) {
        goSts.push(st);
        goAts.push(at);
      } else {
        this.queue.push({ st, at, due: now + stepInMs, heldAt: now });
      }
    }
    if (this.queue.length > before && this.timer === null) this.arm();
    return goSts.length === 0 ? Promise.resolve() : this.deps.dispatchDue(goSts, goAts);
  }

  /** Drops every held fire (stop, pause, pause-all): none was claimed, so none is lost to another instance. */
  clear(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (!next) return;
    const delay = Math.max(0, next.due - this.deps.clock.now());
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      this.stepIn();
    }, delay);
  }

  /**
   * Hands the held fires whose delay is over to the dispatcher, a batch per turn: one batch
   * claim each, so the claims that mostly lose (the preferred instance won) cost one round trip.
   */
  private stepIn(): void {
    const { clock, gate, reporter } = this.deps;
    const now = clock.now();
    const batch: Held[] = [];
    while (this.head < this.queue.length) {
      const held = this.queue[this.head] as Held;
      if (held.due > now) break;
      if (batch.length >= STEP_IN_BATCH) {
        // The rest at the next turn: a burst's claims go out a batch at a time, as in the loop.
        this.timer = clock.setTimeout(() => {
          this.timer = null;
          this.stepIn();
        }, 0);
        break;
      }
      this.head++;
      if (!gate.canFire() || !this.deps.stillArmed(held.st)) continue;
      batch.push(held);
    }
    if (batch.length > 0) reporter.background(this.stepInBatch(batch), "stepping in to held fires");
    if (this.timer !== null) return;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }

  /**
   * Claims the held fires of one batch that no instance holds yet: asks the storage first (one
   * read), and claims every fire of the batch when it cannot tell (the claim decides anyway). A
   * free fire whose preferred instance holds others of the batch waits another step-in (see the
   * module comment).
   */
  private async stepInBatch(batch: Held[]): Promise<void> {
    const { fireHolders, reporter, gate, membership, clock, stepInMs } = this.deps;
    let holders: (string | null)[] | null = null;
    // Each fire's preferred instance: the hint that lets a remote storage answer with only the
    // fires held otherwise, and the owner the busy check below looks for.
    const owners = batch.map((h) => membership.preferredOf(h.st.record.id, h.at));
    if (fireHolders) {
      const fires: FireRef[] = batch.map((h) => ({ scheduleId: h.st.record.id, scheduledAt: h.at }));
      try {
        holders = await fireHolders(fires, owners);
        reporter.storageOk();
      } catch (error) {
        reporter.storageFailed(error, `asking who holds ${fires.length} held fires`);
      }
    }
    if (holders === null) {
      return this.deps.dispatchDue(
        batch.map((h) => h.st),
        batch.map((h) => h.at),
      );
    }
    // Who is claiming which job in this batch: a preferred instance busy with the job's fires,
    // not one that lacks the job (it would never claim them: those step in now).
    const claiming = new Set<string>();
    holders.forEach((holder, i) => {
      if (holder !== null) claiming.add(`${holder}\u0000${(batch[i] as Held).st.record.job}`);
    });
    const now = clock.now();
    const freeSts: ScheduleState[] = [];
    const freeAts: number[] = [];
    let waiting = 0;
    // The probe took a round trip: what was paused or removed meanwhile is not claimed.
    const open = gate.canFire();
    for (let i = 0; i < batch.length; i++) {
      const held = batch[i] as Held;
      const st = held.st;
      const holder = holders[i] ?? null;
      if (holder !== null) {
        reporter.emit("fire:taken", { scheduleId: st.record.id, scheduledAt: held.at, holder });
      } else if (open && this.deps.stillArmed(st)) {
        const owner = owners[i] as string;
        const waited = now - held.heldAt;
        const limit = Math.min(MAX_STEP_IN_WAITS * stepInMs, st.record.misfire.toleranceMs / 2);
        if (claiming.has(`${owner}\u0000${st.record.job}`) && waited + stepInMs <= limit) {
          this.queue.push({ ...held, due: now + stepInMs });
          waiting++;
        } else {
          freeSts.push(st);
          freeAts.push(held.at);
        }
      }
    }
    if (waiting > 0 && this.timer === null) this.arm();
    if (freeSts.length > 0) await this.deps.dispatchDue(freeSts, freeAts);
  }
}
