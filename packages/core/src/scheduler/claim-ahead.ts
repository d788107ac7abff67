/**
 * Fires claimed ahead of their instant. When many fires fall due at one instant on an instance
 * that is alone on its storage, the loop wakes `claimAheadMs` early and claims them then
 * (`Loop.fireAhead`, one batch claim per 1,024), so that at the instant only their starts are
 * left: the claims, the next-fire arithmetic and the records are paid before it, not between the
 * group's first start and its last. This part holds the won claims until their instant and
 * starts them together; whatever changed meanwhile is decided at the instant, as if the claim
 * had been made then:
 *
 * - the scheduler paused (this instance, or everything): each fire is recorded `skipped`
 *   (`paused`, `paused_all`) and its handler never runs;
 * - the schedule removed, disabled or paused: `skipped` (`removed`, `disabled`, `paused`);
 * - `stop()` called before the instant: each claim is released at once (`Runs.release`: deleted,
 *   so whoever runs the schedule at the instant claims it then; given back, it could be taken
 *   over before its instant), and `stop()` does not wait for the instant.
 *
 * A fire the market skips is not claimed ahead: it is recorded at its instant, as before.
 */

import type { Clock } from "../time/clock.js";
import type { Completions } from "./completions.js";
import type { Gate } from "./gate.js";
import type { ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { Run } from "./runner.js";
import type { Runs } from "./runs.js";

/** What the held starts need. */
export interface AheadStartsDeps {
  clock: Clock;
  gate: Gate;
  reporter: Reporter;
  runs: Runs;
  completions: Completions;
  /** The schedule as armed now, or null when it was removed since the claim. */
  current(st: ScheduleState): ScheduleState | null;
  /** Starts a claimed fire (the dispatcher's start, overlap checked); undefined when it started synchronously. */
  start(st: ScheduleState, run: Run): Promise<void> | undefined;
  /** Claims and starts (or records the skip of) a fire at its instant, as the loop would have. */
  fireNow(st: ScheduleState, at: number): Promise<void>;
}

/** The fires held for one instant. */
interface Group {
  at: number;
  runs: { st: ScheduleState; run: Run }[];
  later: { st: ScheduleState; at: number }[];
  timer: unknown;
  /** Resolved once the group started (or was released): the claim batches wait for it. */
  done: Promise<void>;
  resolve: () => void;
}

/** Won claims waiting for their instant. */
export class AheadStarts {
  private readonly groups = new Map<number, Group>();

  constructor(private readonly deps: AheadStartsDeps) {}

  /**
   * Holds won claims (`runs`) and fires to claim at the instant (`later`) until `at`; resolves
   * once they are started or decided. Past the instant they go on at once.
   */
  hold(
    at: number,
    runs: { st: ScheduleState; run: Run }[],
    later: { st: ScheduleState; at: number }[],
  ): Promise<void> {
    if (runs.length === 0 && later.length === 0) return Promise.resolve();
    // Past the instant: started at once, as a claim that came back late would be.
    if (at <= this.deps.clock.now()) return this.startAll(runs, later);
    // Stopping, the instant still ahead (the claims came back after stop() began): released.
    if (this.deps.gate.closing) return this.release(runs);
    const group = this.groupAt(at);
    for (const r of runs) group.runs.push(r);
    for (const l of later) group.later.push(l);
    return group.done;
  }

  /** Releases every held fire unstarted (stop): no instant is waited for. */
  releaseAll(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      this.deps.clock.clearTimeout(group.timer);
      pending.push(this.release(group.runs));
      group.runs = [];
      group.later = [];
      group.resolve();
    }
    this.groups.clear();
    return Promise.all(pending).then(() => {});
  }

  private release(held: { st: ScheduleState; run: Run }[]): Promise<void> {
    const { runs, reporter } = this.deps;
    return Promise.all(held.map(({ st, run }) => runs.release(run, st))).then(
      () => {},
      (error) => reporter.reportError(error, "releasing fires claimed ahead"),
    );
  }

  private groupAt(at: number): Group {
    const group = this.groups.get(at);
    if (group !== undefined) return group;
    let resolve = () => {};
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const created: Group = { at, runs: [], later: [], timer: null, done, resolve };
    const { clock } = this.deps;
    created.timer = clock.setTimeout(() => this.startGroup(created), Math.max(0, at - clock.now()));
    this.groups.set(at, created);
    return created;
  }

  private startGroup(group: Group): void {
    // A timer may fire a millisecond before the wall clock reaches its instant (the loop's own
    // wake checks the same): no handler starts before its instant.
    const early = group.at - this.deps.clock.now();
    if (early > 0) {
      group.timer = this.deps.clock.setTimeout(() => this.startGroup(group), early);
      return;
    }
    this.groups.delete(group.at);
    const { runs, later } = group;
    group.runs = [];
    group.later = [];
    this.startAll(runs, later).then(group.resolve, group.resolve);
  }

  /** Starts the held fires; the outcomes of those that end at once are written after the last start. */
  private startAll(
    runs: { st: ScheduleState; run: Run }[],
    later: { st: ScheduleState; at: number }[],
  ): Promise<void> {
    const { completions, reporter } = this.deps;
    const pending: Promise<void>[] = [];
    completions.hold();
    try {
      for (const { st, run } of runs) {
        try {
          const starting = this.startOne(st, run);
          if (starting !== undefined) pending.push(starting);
        } catch (error) {
          reporter.reportError(error, `fire of ${st.record.id}`);
        }
      }
    } finally {
      completions.release();
    }
    for (const { st, at } of later) pending.push(this.deps.fireNow(st, at));
    return Promise.all(pending).then(
      () => {},
      (error) => reporter.reportError(error, "starting fires claimed ahead"),
    );
  }

  /** Starts one held fire, or decides it as the instant finds things. */
  private startOne(held: ScheduleState, run: Run): Promise<void> | undefined {
    const { gate, runs } = this.deps;
    // Stopping: the instant came (stop() released what was still waiting for it), so the fire
    // starts as a claim that comes back during a stop does; past the deadline the start gives it back.
    if (!gate.closing && !gate.canFire()) {
      return runs.finishWithoutRun(run, held, "skipped", gate.control.pausedAll ? "paused_all" : "paused");
    }
    const st = this.deps.current(held);
    if (st === null) return runs.finishWithoutRun(run, held, "skipped", "removed");
    if (st.record.paused) return runs.finishWithoutRun(run, st, "skipped", "paused");
    if (!st.record.enabled) return runs.finishWithoutRun(run, st, "skipped", "disabled");
    // A job unregistered meanwhile, a broker gone: the start decides, as for any claim.
    return this.deps.start(st, run);
  }
}
