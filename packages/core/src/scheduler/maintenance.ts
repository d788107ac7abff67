/**
 * The cluster side's periodic turn: every third of a lease (or every sync interval when the
 * storage cannot notify) it renews the leases of this instance's runs (a run whose lease was lost
 * is cancelled: another instance has it), takes over fires whose holder's lease expired, polls
 * the storage for changes, and gives the trading side and retention their turn.
 */

import type { ExecutionRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { Trading } from "../trading/trading.js";
import type { Gate } from "./gate.js";
import type { Loop } from "./loop.js";
import type { Membership } from "./membership.js";
import type { Registry, ScheduleState } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { Retention } from "./retention.js";
import { runStatsOf } from "./run-stats.js";
import { Run } from "./runner.js";
import type { Runs } from "./runs.js";
import type { Counters } from "./status.js";
import type { Sync } from "./sync.js";

/** Most expired fires taken over in one turn. */
const TAKEOVER_BATCH = 100;

/**
 * How often the maintenance turn runs: every third of a lease, or every sync interval when the
 * storage cannot notify (then it also polls), never more often than every 10 ms.
 */
export function maintenanceEveryMs(leaseMs: number, syncIntervalMs: number, watches: boolean): number {
  return Math.max(10, Math.min(Math.floor(leaseMs / 3), watches ? Infinity : syncIntervalMs));
}

/** What maintenance needs. */
export interface MaintenanceDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  leaseMs: number;
  syncIntervalMs: number;
  counters: Counters;
  reporter: Reporter;
  gate: Gate;
  loop: Loop;
  registry: Registry;
  runs: Runs;
  sync: Sync;
  trading: Trading;
  retention: Retention;
  /** This instance's place in the cluster, renewed every turn. */
  membership: Membership;
  /** Starts a taken-over fire (the dispatcher). */
  startClaimed(st: ScheduleState, run: Run, checkOverlap: boolean): Promise<void>;
}

/** Leases, takeovers and the storage poll. */
export class Maintenance {
  private timer: unknown = null;
  private lastSyncAt = 0;
  /** The trading side's periodic work in progress (approvals, broker reconnect), if any. */
  private tradingTurn: Promise<void> | null = null;

  constructor(private readonly deps: MaintenanceDeps) {}

  /** Starts the periodic turn (at start). */
  start(now: number): void {
    this.lastSyncAt = now;
    this.schedule();
  }

  /** Ends the periodic turn (at the end of stop, once no lease needs renewing). */
  stop(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const { clock, leaseMs, storage, gate, reporter } = this.deps;
    const every = maintenanceEveryMs(leaseMs, this.deps.syncIntervalMs, Boolean(storage.watch));
    // Maintenance goes on while stopping: the leases of the runs stop() waits for must stay
    // renewed, or another instance would take them over and run them a second time.
    const alive = () => gate.started || gate.state === "stopping";
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      if (!alive()) return;
      reporter.background(
        this.maintain().finally(() => {
          if (alive() && this.timer === null) this.schedule();
        }),
        "maintenance",
      );
    }, every);
  }

  private async maintain(): Promise<void> {
    const { storage, clock, instanceId, leaseMs, reporter, gate, loop } = this.deps;
    const now = clock.now();
    loop.heartbeatAt = now;
    if (!loop.armed && gate.canFire()) loop.schedule();
    if (gate.state !== "stopping") this.deps.retention.tick();
    // Stays in the live list (and learns who else is) while it runs; a paused or stopping
    // instance has left it (it claims nothing) and joins again on resume or start.
    if (gate.state === "running") await this.deps.membership.beat();
    // A run writing its outcome is about to let go of its lease: renewing it would only race that write.
    const mine = this.deps.runs
      .all()
      .filter((r) => r.phase !== "done" && r.phase !== "finishing" && !r.handedOver);
    if (mine.length > 0) {
      try {
        const held = new Set(
          await storage.renewLeases(
            instanceId,
            mine.map((r) => r.execution.id),
            now + leaseMs,
          ),
        );
        reporter.storageOk();
        for (const r of mine) if (!held.has(r.execution.id)) r.cancel("lease_lost");
      } catch (error) {
        reporter.storageFailed(error, "renewing leases");
      }
    }
    if (!storage.watch && gate.state !== "stopping" && now - this.lastSyncAt >= this.deps.syncIntervalMs) {
      this.lastSyncAt = now;
      await this.deps.sync.poll();
    }
    if (gate.canFire()) {
      await this.takeOver(now);
      // Off the maintenance turn: a broker connect can take its own timeout (TWS's is seconds), and
      // the next turn renews the leases of running handlers; waiting for it would let them lapse.
      if (this.tradingTurn === null) {
        const task = this.deps.trading.maintain().finally(() => {
          this.tradingTurn = null;
        });
        this.tradingTurn = task;
        reporter.background(task, "trading maintenance");
      }
    }
  }

  /** Takes over fires whose holder's lease expired, and starts them here (or closes orphans). */
  private async takeOver(now: number): Promise<void> {
    const { storage, instanceId, leaseMs, reporter, registry, runs } = this.deps;
    let taken: ExecutionRecord[];
    try {
      taken = await storage.takeOverExpired(
        instanceId,
        now,
        now + leaseMs,
        TAKEOVER_BATCH,
        registry.jobNames(),
      );
      reporter.storageOk();
    } catch (error) {
      reporter.storageFailed(error, "taking over expired fires");
      return;
    }
    for (const execution of taken) {
      const st = registry.states.get(execution.scheduleId);
      const job = registry.jobs.get(execution.job);
      const run = new Run(execution, "handler");
      runs.add(run);
      this.deps.counters.takenOver++;
      reporter.emit("fire:taken-over", { execution });
      if (!st || !job) {
        const record = st?.record;
        await storage
          .updateExecution(execution.id, instanceId, {
            status: "cancelled",
            reason: "schedule_removed",
            endedAt: now,
            leaseExpiresAt: null,
          })
          .catch((error: unknown) => reporter.storageFailed(error, `closing orphaned fire ${execution.id}`));
        run.settle(null);
        runs.delete(run);
        if (record) runs.settled(run, record);
        continue;
      }
      runStatsOf(st).running++;
      // Attempt 1: a fire handed over unstarted (it never ran), which starts like a new fire, under
      // the overlap policy. A later attempt continues a run that had started.
      reporter.background(
        this.deps.startClaimed(st, run, execution.attempts === 1),
        `taken-over run of ${execution.scheduleId}`,
      );
    }
  }
}
