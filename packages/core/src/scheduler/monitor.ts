/**
 * How this instance is: the status snapshot (state, uptime, heartbeat, counters, per-schedule
 * last start/end/status/next fire) and the health verdict with its reasons, from what the other
 * parts keep. Health makes no storage call, so a probe can ask it often.
 */

import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { Trading } from "../trading/trading.js";
import type { Gate } from "./gate.js";
import type { Loop } from "./loop.js";
import type { Registry } from "./registry.js";
import type { Reporter } from "./reporter.js";
import { newScheduleCounters } from "./schedule-counters.js";
import {
  assessHealth,
  type Counters,
  type Health,
  type SchedulerStatus,
  type ScheduleStatus,
} from "./status.js";
import type { TrustReport } from "./trust.js";

/** What the monitor needs. */
export interface MonitorDeps {
  storage: Storage;
  clock: Clock;
  instanceId: string;
  maxWaitMs: number;
  leaseMs: number;
  counters: Counters;
  reporter: Reporter;
  gate: Gate;
  registry: Registry;
  loop: Loop;
  trust: TrustReport;
  trading: Trading;
  /** When this instance started (null before the first start). */
  startedAt(): number | null;
}

/** Status and health. */
export class Monitor {
  constructor(private readonly deps: MonitorDeps) {}

  /** Every schedule's status on this instance, by id. */
  scheduleStatuses(): ScheduleStatus[] {
    const { registry, loop, clock } = this.deps;
    // A group claimed ahead: its schedules' queue entries moved on at the claim (a one-off's left
    // the queue), but their fire at the instant has not started yet.
    const aheadAt = loop.aheadAt;
    const ahead = aheadAt > clock.now();
    return [...registry.states.values()]
      .map((st) => ({
        id: st.record.id,
        name: st.record.name,
        job: st.record.job,
        enabled: st.record.enabled,
        paused: st.record.paused,
        handled: registry.jobs.has(st.record.job),
        nextFireAt: ahead && st.lastAt === aheadAt ? aheadAt : st.index >= 0 ? st.at : null,
        lastStartAt: st.runs?.lastStartAt ?? null,
        lastEndAt: st.runs?.lastEndAt ?? null,
        lastStatus: st.runs?.lastStatus ?? null,
        lastSuccessAt: st.runs?.lastSuccessAt ?? null,
        running: st.runs?.running ?? 0,
        counters: st.runs ? { ...st.runs.counters } : newScheduleCounters(),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Why schedule `s` has no next fire on this instance, or null when it has one. */
  whyNoFire(s: ScheduleStatus): string | null {
    const { gate } = this.deps;
    if (s.nextFireAt !== null) return null;
    if (!s.enabled) return "disabled";
    if (s.paused) return "paused";
    if (!s.handled) return `job '${s.job}' is not registered here`;
    if (gate.control.pausedAll) return "emergency pause-all is in force";
    if (gate.paused) return "this instance is paused";
    return this.deps.trust.problemOf(s.id) ?? "no fire in the future";
  }

  async status(): Promise<SchedulerStatus> {
    const { storage, clock, gate, reporter } = this.deps;
    let approvalsPending = 0;
    try {
      approvalsPending = await storage.countApprovals("pending");
    } catch (error) {
      reporter.storageFailed(error, "counting approvals");
    }
    const now = clock.now();
    const startedAt = this.deps.startedAt();
    return {
      state: gate.state,
      instanceId: this.deps.instanceId,
      storage: storage.name,
      pausedAll: gate.control.pausedAll,
      pausedAllBy: gate.control.pausedBy,
      startedAt,
      uptimeMs: startedAt === null || gate.state === "stopped" ? 0 : now - startedAt,
      heartbeatAt: this.deps.loop.heartbeatAt,
      counters: { ...this.deps.counters },
      approvalsPending,
      schedules: this.scheduleStatuses(),
    };
  }

  health(): Health {
    const { storage, clock, gate, reporter } = this.deps;
    const broker = this.deps.trading.desk.broker;
    let issues: ReturnType<NonNullable<Storage["issues"]>> = [];
    try {
      issues = storage.issues?.() ?? [];
    } catch (error) {
      reporter.reportError(error, "asking the storage for its issues");
    }
    return assessHealth({
      state: gate.state,
      pausedAll: gate.control.pausedAll,
      heartbeatAt: this.deps.loop.heartbeatAt,
      now: clock.now(),
      staleAfterMs: 2 * this.deps.maxWaitMs + Math.floor(this.deps.leaseMs / 3) + 5000,
      storageFailures: reporter.storageFailures,
      schedules: this.scheduleStatuses(),
      broker: broker ? { name: broker.name, connected: broker.isConnected() } : null,
      untrusted: this.deps.trust.reasons(issues),
    });
  }
}
