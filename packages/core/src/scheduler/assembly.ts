/**
 * Assembly: builds the parts of one scheduler from its checked options and wires each to the
 * parts it calls. The facade (`scheduler.ts`) keeps the result and delegates to it. Parts that
 * call each other in a ring (arming -> loop -> dispatcher -> arming) are given late-bound arrows,
 * called only once everything is built.
 */

import { hostname } from "node:os";
import type { z } from "zod";
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import { NotifierHub } from "../notify/notifier-hub.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { Storage } from "../storage/storage.js";
import { type Clock, systemClock } from "../time/clock.js";
import { DEFAULT_APPROVAL_EXPIRY_MS, Trading, type TradingNotice } from "../trading/trading.js";
import { AheadPlan } from "./ahead-plan.js";
import { Controls } from "./controls.js";
import { DEFAULT_STEP_IN_MS, DeferredFires } from "./deferred-fires.js";
import { Dispatcher } from "./dispatcher.js";
import { Gate } from "./gate.js";
import { Lifecycle } from "./lifecycle.js";
import { Loop } from "./loop.js";
import { Maintenance, maintenanceEveryMs } from "./maintenance.js";
import { ManualFires } from "./manual.js";
import { Membership } from "./membership.js";
import { Monitor } from "./monitor.js";
import {
  DEFAULT_CLAIM_AHEAD_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_WAIT_MS,
  type optionsSchema,
} from "./options.js";
import { Overlap } from "./overlap.js";
import { Records } from "./records.js";
import { Registry } from "./registry.js";
import { Reporter } from "./reporter.js";
import { Retention, resolveRetention } from "./retention.js";
import { Runs } from "./runs.js";
import { Schedules } from "./schedules.js";
import { type Counters, newCounters } from "./status.js";
import { Sync } from "./sync.js";
import { TrustReport } from "./trust.js";

/** The parts of one scheduler. */
export interface Parts {
  instanceId: string;
  storage: Storage;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  reporter: Reporter;
  gate: Gate;
  registry: Registry;
  loop: Loop;
  runs: Runs;
  dispatcher: Dispatcher;
  controls: Controls;
  schedules: Schedules;
  manual: ManualFires;
  records: Records;
  monitor: Monitor;
  lifecycle: Lifecycle;
  trading: Trading;
  notifier: NotifierHub;
  retention: Retention;
}

/** Builds the parts. `emit` is the facade's raw EventEmitter emit (listeners may throw out of it). */
export function assemble(
  o: z.output<typeof optionsSchema>,
  emit: (name: string, payload: unknown) => boolean,
): Parts {
  const storage = o.storage ?? new MemoryStorage();
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger;
  const instanceId = o.instanceId ?? `${hostname()}:${process.pid}:${Math.random().toString(16).slice(2, 6)}`;
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  const maxWaitMs = o.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const counters = newCounters();
  const gate = new Gate();
  const trust = new TrustReport();
  // The counters live on the registry's schedule states; the registry is made after the reporter.
  let registry: Registry | null = null;
  const reporter = new Reporter({
    storage,
    clock,
    logger,
    emit,
    countersOf: (id) => registry?.countersOf(id) ?? null,
  });
  const base = { storage, clock, instanceId, logger, counters, reporter, gate };
  const notifier = new NotifierHub({
    notifiers: o.notifiers ?? [],
    clock,
    onError: (error, where) => reporter.reportError(error, `notifier ${where.notifier}`),
  });
  /** Queued for every notifier at once: a slow or failing webhook never delays a fire. */
  const notify = (notice: TradingNotice) => notifier.notify({ ...notice, timestamp: clock.now() });
  // Late-bound: made below, called only once the scheduler runs.
  let dispatcher: Dispatcher | null = null;
  const dispatch = () => dispatcher as Dispatcher;
  let loop: Loop | null = null;
  const syncIntervalMs = o.syncIntervalMs ?? 1000;
  const membership = new Membership({
    ...base,
    // A few maintenance turns: one missed beat does not drop a live instance from the list.
    ttlMs: 3 * maintenanceEveryMs(leaseMs, syncIntervalMs, Boolean(storage.watch)),
  });
  const stepInMs = o.stepInMs ?? DEFAULT_STEP_IN_MS;
  /** No other live instance seen (false while out of the list: paused, stopping). */
  const aloneInList = () => membership.joined && membership.members.length <= 1;
  // Scheduled fires this instance is not the preferred claimer of wait a step-in (scale-out).
  const deferred = new DeferredFires({
    ...base,
    membership,
    stepInMs,
    fire: (st, at, kind, actor) => dispatch().fire(st, at, kind, actor),
    dispatchDue: (sts, ats) => dispatch().dispatchDue(sts, ats),
    stillArmed: (st) => registry?.states.get(st.record.id) === st && (registry?.eligible(st) ?? false),
    ...(storage.fireHolders ? { fireHolders: storage.fireHolders.bind(storage) } : {}),
  });
  registry = new Registry({
    ...base,
    timer: {
      schedule: () => loop?.schedule(),
      clear: () => {
        loop?.clear();
        deferred.clear();
      },
    },
    fire: (st, at, kind, actor) => deferred.fire(st, at, kind, actor),
    recordMissed: (record, at, reason, details) => dispatch().recordMissed(record, at, reason, details),
  });
  loop = new Loop({
    ...base,
    maxWaitMs,
    queue: registry.queue,
    dispatchDue: (sts, ats) => deferred.dispatchDue(sts, ats),
    processDue: (st, now) => registry.processDue(st, now),
    holdOutcomes: () => dispatch().completions.hold(),
    releaseOutcomes: () => dispatch().completions.release(),
    aheadPlan: new AheadPlan({
      queue: registry.queue,
      claimAheadMs: o.claimAheadMs ?? DEFAULT_CLAIM_AHEAD_MS,
      // Only with every due fire this instance's to claim: with other live instances the fires
      // it is not preferred for wait a step-in from their instant (deferred-fires.ts).
      canClaimAhead: () =>
        storage.claimFires !== undefined && (stepInMs === 0 || !membership.shared || aloneInList()),
    }),
    dispatchAhead: (sts, ats, at) => dispatch().dispatchDue(sts, ats, at),
  });
  const trading = new Trading(
    {
      storage,
      clock,
      counters,
      logger,
      emit: (name, payload) => reporter.emit(name, payload),
      audit: (actor, action, subjectType, subjectId, details) =>
        reporter.audit(actor, action, subjectType, subjectId, details),
      notify,
      reportError: (error, context) => reporter.reportError(error, context),
      background: (task, context) => reporter.background(task, context),
      track: (task) => reporter.track(task.catch(() => {})),
    },
    {
      broker: o.broker ?? null,
      risk: o.risk ?? {},
      riskRules: o.riskRules ?? [],
      approvalExpiryMs: o.approvalExpiry ?? DEFAULT_APPROVAL_EXPIRY_MS,
      prices: o.prices ?? null,
      marketHours: o.marketHours ?? null,
    },
    (id) => registry.states.get(id)?.record ?? null,
  );
  const retention = new Retention(
    {
      storage,
      clock,
      logger,
      schedules: () => [...registry.states.values()].map((st) => st.record),
      // A group claimed ahead has left the queue's head, but starts at its instant all the same.
      nextFireAt: () => {
        const head = registry.queue.peek()?.at ?? null;
        const ahead = loop?.aheadAt ?? Number.NaN;
        return ahead > clock.now() && (head === null || ahead < head) ? ahead : head;
      },
      firesStarting: () => dispatcher?.claiming.promises ?? [],
      emit: (payload) => reporter.emit("retention:pruned", payload),
      reportError: (error, context) => reporter.reportError(error, context),
    },
    resolveRetention(o.retention),
  );
  const runs = new Runs({ ...base, trading, states: registry.states, notify });
  const overlap = new Overlap({ ...base, overlapPollMs: o.overlapPollMs ?? 1000, runs });
  dispatcher = new Dispatcher({
    ...base,
    leaseMs,
    random: o.random ?? Math.random,
    jobs: registry.jobs,
    runs,
    overlap,
    trading,
    // Not while out of the list (paused, stopping): who else is live is not known then.
    alone: () => membership.shared && aloneInList(),
    current: (st) => registry.states.get(st.record.id) ?? null,
  });
  const controls = new Controls({ ...base, registry, trust, runs, trading, notify, membership });
  const sync = new Sync({ ...base, registry, controls, trust });
  const schedules = new Schedules({
    ...base,
    registry,
    sync,
    strictJobs: o.strictJobs ?? true,
    timer: loop,
  });
  const manual = new ManualFires({ ...base, registry, dispatcher, schedules, sync });
  let lifecycle: Lifecycle | null = null;
  const monitor = new Monitor({
    ...base,
    maxWaitMs,
    leaseMs,
    registry,
    loop,
    trust,
    trading,
    startedAt: () => lifecycle?.startedAt ?? null,
  });
  const maintenance = new Maintenance({
    ...base,
    leaseMs,
    syncIntervalMs,
    loop,
    membership,
    registry,
    runs,
    sync,
    trading,
    retention,
    startClaimed: (st, run, checkOverlap) => dispatch().startClaimed(st, run, checkOverlap),
  });
  lifecycle = new Lifecycle({
    ...base,
    registry,
    loop,
    controls,
    sync,
    maintenance,
    membership,
    dispatcher,
    runs,
    trading,
    retention,
    notifier,
    monitor,
    keepAliveWhileStarted: o.keepAlive ?? true,
  });
  return {
    instanceId,
    storage,
    clock,
    logger,
    counters,
    reporter,
    gate,
    registry,
    loop,
    runs,
    dispatcher,
    controls,
    schedules,
    manual,
    records: new Records(storage, trading),
    monitor,
    lifecycle,
    trading,
    notifier,
    retention,
  };
}
