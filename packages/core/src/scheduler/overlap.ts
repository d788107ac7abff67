/**
 * The overlap policies: what a claimed fire does while an earlier run of its schedule (here or on
 * another instance) is still active. `skip` ends it, `cancel_previous` cancels the other,
 * `buffer_one`/`buffer_all` park it as `claimed` until its turn, `allow` never asks (the
 * dispatcher does not call in then). The check fails closed: it never starts a fire unchecked.
 */

import type { ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";
import { runStatsOf } from "./run-stats.js";
import type { Run } from "./runner.js";
import type { Runs } from "./runs.js";

const NONE: ExecutionRecord[] = [];

/** What the overlap policies need. */
export interface OverlapDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  /** How often a waiting fire asks the storage again (a run on another instance ends unseen). */
  overlapPollMs: number;
  reporter: Reporter;
  runs: Runs;
}

/** Applies a schedule's overlap policy to a claimed fire. */
export class Overlap {
  constructor(private readonly deps: OverlapDeps) {}

  /**
   * Applies the overlap policy. Returns true if the run should start now. Fails closed: when the
   * storage cannot say whether an earlier run is active, that counts as "busy" and the check is
   * asked again (every `overlapPollMs`) for as long as the fire is within its misfire tolerance;
   * after that the fire is skipped with reason `overlap_unknown`. It never starts unchecked.
   */
  async resolve(st: ScheduleState, run: Run): Promise<boolean> {
    const { storage, clock, reporter, runs } = this.deps;
    const policy = st.record.overlap;
    const mine = run.execution;
    const giveUpAt = mine.claimedAt + st.record.misfire.toleranceMs;
    // The claim's state holds only for a fire that starts at once, alone: one that waits, or that
    // cancels an earlier run (which may still commit), reads the state afresh.
    const fromClaim = run.claimState;
    run.claimState = undefined;
    let waited = false;
    let others: ExecutionRecord[] | null = null;
    while (others === null) {
      try {
        const active = await storage.activeExecutions(mine.scheduleId);
        // Mostly just this fire itself: no copy of the list then.
        others =
          active.length === 1 && active[0]?.id === mine.id ? NONE : active.filter((e) => e.id !== mine.id);
        reporter.storageOk();
      } catch (error) {
        reporter.storageFailed(error, `checking overlap of ${mine.scheduleId}`);
        if (clock.now() >= giveUpAt) {
          await runs.finishWithoutRun(run, st, "skipped", "overlap_unknown");
          return false;
        }
        run.phase = "waiting";
        waited = true;
        await this.waitForChange(st, run.controller.signal);
        run.phase = "handler";
        if (run.aborted) {
          await runs.abandon(run, st);
          return false;
        }
      }
    }
    if (others.length === 0) {
      if (!waited) run.claimState = fromClaim;
      return true;
    }
    if (policy === "skip") {
      await runs.finishWithoutRun(run, st, "skipped", "overlap");
      return false;
    }
    if (policy === "cancel_previous") {
      for (const other of others) await this.cancelOther(other);
      return true;
    }
    if (policy === "buffer_one" && others.some((e) => e.status === "claimed")) {
      await runs.finishWithoutRun(run, st, "skipped", "overlap_buffer_full");
      return false;
    }
    return this.waitTurn(st, run);
  }

  /** Cancels an earlier run: directly when it runs here, through the storage when elsewhere. */
  private async cancelOther(other: ExecutionRecord): Promise<void> {
    const { storage, clock, reporter } = this.deps;
    const local = this.deps.runs.find(other.id);
    if (local) {
      local.cancel("superseded");
      return;
    }
    try {
      const cancelled = await storage.cancelExecution(other.id, "superseded", clock.now());
      reporter.storageOk();
      if (cancelled) reporter.emit("run:cancelled", { execution: cancelled, reason: "superseded" });
    } catch (error) {
      reporter.storageFailed(error, `cancelling ${other.id}`);
    }
  }

  /** Buffers a fire until no earlier fire of its schedule is active (here or on another instance). */
  private async waitTurn(st: ScheduleState, run: Run): Promise<boolean> {
    const { storage, clock, instanceId, reporter, runs } = this.deps;
    run.phase = "waiting";
    const mine = run.execution;
    const parked = await storage
      .updateExecution(mine.id, instanceId, { status: "claimed", attempts: 0, startedAt: null })
      .catch((error: unknown) => {
        reporter.storageFailed(error, `buffering ${mine.id}`);
        return null;
      });
    if (parked) run.execution = parked;
    for (;;) {
      if (run.controller.signal.aborted) break;
      let blocking = true;
      try {
        const active = await storage.activeExecutions(mine.scheduleId);
        reporter.storageOk();
        blocking = active.some(
          (e) => e.id !== mine.id && (e.status === "running" || e.scheduledAt < mine.scheduledAt),
        );
      } catch (error) {
        reporter.storageFailed(error, `checking overlap of ${mine.scheduleId}`);
      }
      if (!blocking) break;
      await this.waitForChange(st, run.controller.signal);
    }
    if (run.controller.signal.aborted) {
      await runs.abandon(run, st);
      return false;
    }
    const now = clock.now();
    const started = await storage
      .updateExecution(mine.id, instanceId, { status: "running", attempts: 1, startedAt: now })
      .catch((error: unknown) => {
        reporter.storageFailed(error, `starting buffered ${mine.id}`);
        return null;
      });
    if (!started) {
      run.settle(null);
      runs.settled(run, st.record);
      return false;
    }
    run.execution = started;
    run.phase = "handler";
    return true;
  }

  /** Resolves when a run of the schedule ends here, after `overlapPollMs`, or on abort. */
  private waitForChange(st: ScheduleState, signal: AbortSignal): Promise<void> {
    const { clock, overlapPollMs } = this.deps;
    const stats = runStatsOf(st);
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimeout(handle);
        stats.waiters?.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const handle = clock.setTimeout(done, overlapPollMs);
      stats.waiters ??= new Set();
      stats.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
