/**
 * The options of a {@link Scheduler} and their checks, apart from the facade that reads them.
 */

import { z } from "zod";
import type { Broker } from "../broker/broker.js";
import type { Logger } from "../logger.js";
import type { Notifier } from "../notify/notifier.js";
import type { Storage } from "../storage/storage.js";
import { type Clock, clockSchema } from "../time/clock.js";
import type { MarketHours, PriceSource } from "../trading/order-desk.js";
import { type RiskLimits, type RiskRule, riskLimitsSchema } from "../trading/risk.js";
import { positiveDurationSchema } from "../validation.js";
import type { RetentionOptions } from "./retention.js";

/**
 * How early the loop claims a group of fires due together (option `claimAheadMs`): more than
 * the claims of a group of 1,000 take on MemoryStorage (5-8 ms on a 2-core machine) plus a
 * timer's lateness, so the group's claims are made before its instant.
 */
export const DEFAULT_CLAIM_AHEAD_MS = 20;

/** Longest single timer wait. Timers are re-armed at least this often, so a suspended VM or laptop
 * notices the time on waking, and no wait comes near setTimeout's 2^31-1 ms limit (croner uses 30 s). */
export const DEFAULT_MAX_WAIT_MS = 30_000;
/** How long a claim is held without renewal before another instance may take the fire over. */
export const DEFAULT_LEASE_MS = 30_000;

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** Where schedules, fires and records live. Default: a new MemoryStorage. */
  storage?: Storage;
  /** Time source. Default: the system clock. Tests pass a TestClock. */
  clock?: Clock;
  /** Identifies this instance in claims and leases. Default: `host:pid:random`. */
  instanceId?: string;
  /** pino-compatible logger. Default: silent. */
  logger?: Logger;
  /** Lease of a claimed fire (renewed every third of it). Default 30 s. */
  leaseMs?: number;
  /** Longest single timer wait. Default 30 s. */
  maxWaitMs?: number;
  /** How often to poll storage for changes when it cannot notify. Default 1 s. */
  syncIntervalMs?: number;
  /** How often a buffered fire re-checks whether the previous run (maybe on another instance) ended. Default 1 s. */
  overlapPollMs?: number;
  /**
   * Scale-out on a shared storage: how long this instance holds back a due fire another live
   * instance is the preferred claimer of (a hash of the fire over the live instances, from
   * `storage.heartbeat`) before it steps in. The preferred instance claims at once; the others
   * then ask who holds the fires they held (`storage.fireHolders`, one read per batch) and claim
   * only those still free, so the fires are split between the instances instead of every
   * instance racing for every fire; a preferred instance that is paused, lacks the job or died is
   * covered a step-in late. The claim still decides exactly-once. No deferral with one live
   * instance, on a storage without `heartbeat`, for manual fires, backfills and catch-ups, or for a
   * schedule whose misfire tolerance is not above it. 0 turns it off (every instance claims every
   * fire at once). Default 250 ms (`DEFAULT_STEP_IN_MS`; measured in bench/storage-sql.bench.mjs),
   * at most 10 s.
   */
  stepInMs?: number;
  /**
   * How long before an instant with 64 or more fires due this instance claims them, at least,
   * when it is the only live instance on its storage: the loop wakes that much early (plus the
   * group's size times what a claim cost in the last groups, at most 1 s), claims the group (one
   * batch claim per 1,024) and starts the fires at their instant, so that the claims are not paid
   * between the group's first start and its last. A fire claimed ahead is recorded `running`
   * with its instant as `startedAt`; if the scheduler or the schedule is paused, or the schedule
   * removed or disabled, before the instant, it is recorded `skipped` with that reason and its
   * handler never runs; `stop()` releases such claims at once (a restart claims them at the
   * instant). 0 turns it off. Default 20 ms (`DEFAULT_CLAIM_AHEAD_MS`), at most 1 s.
   */
  claimAheadMs?: number;
  /** Reject schedules whose job is not registered on this instance. Default true. */
  strictJobs?: boolean;
  /** Random source for backoff jitter. Default Math.random. */
  random?: () => number;
  /** The broker orders go to. Default none: `ctx.submit` then rejects with rule `broker_configured`. */
  broker?: Broker;
  /** Scheduler-wide risk limits, checked before every submission and again on approval. */
  risk?: RiskLimits;
  /** Custom risk rules, checked after the limits' rules. */
  riskRules?: RiskRule[];
  /** How long approvals stay pending unless a schedule says otherwise (ms or '4h'). Default 4 h. */
  approvalExpiry?: number | string;
  /** Current prices, to value market orders for the risk guard (PaperBroker's `priceOf` fits). */
  prices?: PriceSource;
  /** Market hours for the `marketHoursOnly` risk limit (a MarketCalendar fits). */
  marketHours?: MarketHours;
  /** Where notifications go (run failed for good, approvals requested or expired, pause-all, broker connection). */
  notifiers?: Notifier[];
  /**
   * Keep the Node process alive from `start()` until `stop()`, as croner and node-cron do, so a
   * script that starts a scheduler keeps running. Default true. False for hosts that decide
   * themselves when the process ends (the scheduler's timers never hold it then). `stop()` holds
   * the process while it waits either way, so it always resolves.
   */
  keepAlive?: boolean;
  /**
   * How long the stored history is kept (executions, approvals, orders, audit), pruned in the
   * background; `false` keeps everything. Default `DEFAULT_RETENTION`. See docs/retention.md.
   */
  retention?: RetentionOptions | false;
}

/** The check of {@link SchedulerOptions}. */
export const optionsSchema = z.strictObject({
  storage: z.custom<Storage>((v) => v === undefined || (typeof v === "object" && v !== null)).optional(),
  clock: clockSchema.optional(),
  instanceId: z.string().min(1).max(200).optional(),
  logger: z.custom<Logger>((v) => v === undefined || (typeof v === "object" && v !== null)).optional(),
  leaseMs: z.number().int().min(1000).max(86_400_000).optional(),
  maxWaitMs: z.number().int().min(1).max(2_147_483_647).optional(),
  syncIntervalMs: z.number().int().min(10).optional(),
  overlapPollMs: z.number().int().min(1).optional(),
  stepInMs: z.number().int().min(0).max(10_000).optional(),
  claimAheadMs: z.number().int().min(0).max(1000).optional(),
  strictJobs: z.boolean().optional(),
  random: z.custom<() => number>((v) => v === undefined || typeof v === "function").optional(),
  broker: z.custom<Broker>((v) => v === undefined || (typeof v === "object" && v !== null)).optional(),
  risk: riskLimitsSchema.optional(),
  riskRules: z
    .array(z.custom<RiskRule>((v) => typeof v === "object" && v !== null && "check" in v))
    .optional(),
  approvalExpiry: positiveDurationSchema.optional(),
  prices: z.custom<PriceSource>((v) => v === undefined || typeof v === "function").optional(),
  marketHours: z
    .custom<MarketHours>((v) => v === undefined || (typeof v === "object" && v !== null && "isOpen" in v))
    .optional(),
  notifiers: z
    .array(z.custom<Notifier>((v) => typeof v === "object" && v !== null && "notify" in v))
    .optional(),
  keepAlive: z.boolean().optional(),
  // Checked field by field by resolveRetention, so an error names the field inside the policy.
  retention: z.union([z.literal(false), z.looseObject({})]).optional(),
});
