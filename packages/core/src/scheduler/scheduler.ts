/**
 * The Scheduler: registers jobs, keeps schedules, and runs their fires exactly once.
 *
 * Shape of the loop: every armed schedule sits in one priority queue keyed by its next fire;
 * a single timer waits for the head (each wait capped at `maxWaitMs`, so no setTimeout overflows
 * and a suspended machine wakes up on time). On waking it compares the wall clock with what it
 * expected: a fire that is due runs, a fire that was missed (down, paused, the clock jumped) goes
 * through the schedule's misfire policy, and a timer that woke early just waits again. Every fire
 * is claimed in storage before it runs; only the claimer runs it.
 */

import { hostname } from "node:os";
import { EventEmitter } from "eventemitter3";
import { z } from "zod";
import type { Broker } from "../broker/broker.js";
import { getCalendar } from "../calendar/registry.js";
import {
  ConflictError,
  NotFoundError,
  StateError,
  StorageError,
  TradecronError,
  toError,
  ValidationError,
} from "../errors.js";
import type { SchedulerEventMap, SchedulerEvents, SkipReason } from "../events.js";
import { type Logger, silentLogger } from "../logger.js";
import type { Notifier } from "../notify/notifier.js";
import { NotifierHub } from "../notify/notifier-hub.js";
import type { ScheduleInput, ScheduleUpdate } from "../schedule/schedule-input.js";
import { buildScheduleRecord } from "../schedule/schedule-input.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type {
  ApprovalRecord,
  ApprovalStatus,
  AuditEntry,
  ControlRecord,
  ExecutionRecord,
  ExecutionStatus,
  FireKind,
  JsonValue,
  OrderRecord,
  Page,
  RiskLevel,
  ScheduleRecord,
} from "../storage/records.js";
import type { ScheduleStateRecord } from "../storage/schedule-state.js";
import type { ScheduleSummary, Storage, StorageChange } from "../storage/storage.js";
import { isCorruptRecord, storedControlProblem, storedScheduleProblem } from "../storage/stored-records.js";
import { type Clock, clockSchema, sleep, systemClock } from "../time/clock.js";
import { localParts, toLocal } from "../time/zone.js";
import type { ApprovalGroup } from "../trading/approval-group.js";
import type { DecisionResult } from "../trading/approval-queue.js";
import type { GroupDecision } from "../trading/group-approvals.js";
import type { MarketHours, PriceSource } from "../trading/order-desk.js";
import { type RiskLimits, type RiskRule, riskLimitsSchema } from "../trading/risk.js";
import { DEFAULT_APPROVAL_EXPIRY_MS, Trading, type TradingNotice } from "../trading/trading.js";
import { compileTrigger, nextFires } from "../triggers/compile.js";
import type { Trigger } from "../triggers/trigger.js";
import {
  durationSchema,
  type InstantInput,
  instantSchema,
  MAX_INSTANT,
  parseInput,
  positiveDurationSchema,
} from "../validation.js";
import { logEvent, logNextFires } from "./event-log.js";
import { FireQueue, type QueueEntry } from "./fire-queue.js";
import { InFlight, settleUntil } from "./in-flight.js";
import { fireIdempotencyKey, type JobDefinition, type JobHandler } from "./job.js";
import { KeepAlive } from "./keep-alive.js";
import { planFires } from "./planner.js";
import { Retention, type RetentionCounts, type RetentionOptions, resolveRetention } from "./retention.js";
import { executeRun, Run, type RunnerDeps } from "./runner.js";
import { countEvent, newScheduleCounters, type ScheduleCounters } from "./schedule-counters.js";
import {
  assessHealth,
  type Counters,
  type Health,
  newCounters,
  type SchedulerState,
  type SchedulerStatus,
  type ScheduleStatus,
} from "./status.js";
import { FAIL_SAFE_ACTOR, failSafeControl, TrustReport } from "./trust.js";

/** Longest single timer wait. Timers are re-armed at least this often, so a suspended VM or laptop
 * notices the time on waking, and no wait comes near setTimeout's 2^31-1 ms limit (croner uses 30 s). */
export const DEFAULT_MAX_WAIT_MS = 30_000;
/**
 * Fires started together before the loop waits for their handlers to start (see `fireDue`). A group
 * up to this size is started in one pass; a larger burst keeps its working set to one batch.
 */
const FIRE_BATCH = 1024;

/** Resolves at the next turn of the event loop, after pending I/O callbacks. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** How long a claim is held without renewal before another instance may take the fire over. */
export const DEFAULT_LEASE_MS = 30_000;
/** How long stop() waits past its deadline for the writes of cancelled and handed-over fires. */
const STOP_GRACE_MS = 10_000;
/** The cancel reason of a fire given back unstarted at shutdown (it is handed over, not recorded). */
const SHUTDOWN_HANDOVER = "shutdown_handover";

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

const optionsSchema = z.strictObject({
  storage: z.custom<Storage>((v) => v === undefined || (typeof v === "object" && v !== null)).optional(),
  clock: clockSchema.optional(),
  instanceId: z.string().min(1).max(200).optional(),
  logger: z.custom<Logger>((v) => v === undefined || (typeof v === "object" && v !== null)).optional(),
  leaseMs: z.number().int().min(1000).max(86_400_000).optional(),
  maxWaitMs: z.number().int().min(1).max(2_147_483_647).optional(),
  syncIntervalMs: z.number().int().min(10).optional(),
  overlapPollMs: z.number().int().min(1).optional(),
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

/** Who did something, for the audit log. */
/** Options of {@link Scheduler.stop}. */
export interface StopOptions {
  /** How long running handlers get to finish (a duration; default 30 s). */
  timeoutMs?: number | string;
  /** Close the storage once stopped (default false: it is the host's, maybe shared). */
  closeStorage?: boolean;
  /** What happens to handlers still running at the deadline: `cancel` (default) or `hand-over`. */
  atDeadline?: "cancel" | "hand-over";
}

/** What {@link Scheduler.stop} did at its deadline (in the `scheduler:stopped` event). */
export interface StopResult {
  /** Executions whose handler was still running at the deadline and was recorded cancelled. */
  cancelled: string[];
  /** Executions whose handler was still running at the deadline and was handed over. */
  handedOver: string[];
}

export interface ActorOptions {
  /** Name of the person or system acting. Default `system`. */
  actor?: string;
}

/** A fire in a preview, with the reason it would be skipped (null: it would run). */
export interface PreviewFire {
  at: number;
  iso: string;
  /** Wall time in the schedule's zone, `YYYY-MM-DD HH:mm:ss`. */
  local: string;
  /** Why this fire would not run now (disabled, paused, paused-all first, then the calendar's reason), or null. */
  skip: SkipReason | null;
  /**
   * The calendar's reason alone (a holiday, an early close, outside hours), also while the
   * schedule or everything is paused: what the fire does once resumed. Null when it would run.
   */
  marketSkip: SkipReason | null;
}

/** Result of {@link Scheduler.backfill}. */
export interface BackfillResult {
  /** Fires of the schedule in the window. */
  fires: number;
  /** Fires this call ran (claimed and executed). */
  ran: number;
  /** Fires that had been claimed already (ran before, or by another instance) and were left alone. */
  alreadyClaimed: number;
  executions: ExecutionRecord[];
}

/** Listing filters of {@link Scheduler.listExecutions}. */
export interface ExecutionListInput {
  scheduleId?: string;
  status?: ExecutionStatus | ExecutionStatus[];
  kind?: FireKind | FireKind[];
  from?: InstantInput;
  to?: InstantInput;
  /** Default 50, at most 1000. */
  limit?: number;
  cursor?: string | null;
}

const statusEnum = z.enum(["claimed", "running", "succeeded", "failed", "timed_out", "skipped", "cancelled"]);
const kindEnum = z.enum(["scheduled", "catchup", "manual", "backfill"]);
const executionListSchema = z.strictObject({
  scheduleId: z.string().min(1).optional(),
  status: z.union([statusEnum, z.array(statusEnum)]).optional(),
  kind: z.union([kindEnum, z.array(kindEnum)]).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});
const actorSchema = z.strictObject({ actor: z.string().trim().min(1).max(200).default("system") });
const approvalStatusEnum = z.enum(["pending", "approved", "rejected", "expired", "submitted", "failed"]);
const riskEnum = z.enum(["low", "medium", "high"]);
const approvalListSchema = z.strictObject({
  status: z.union([approvalStatusEnum, z.array(approvalStatusEnum)]).optional(),
  riskLevel: z.union([riskEnum, z.array(riskEnum)]).optional(),
  scheduleId: z.string().min(1).optional(),
  executionId: z.string().min(1).optional(),
  groupId: z.string().min(1).max(200).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});
const groupDecisionSchema = z.strictObject({
  groupId: z.string().min(1).max(200),
  actor: z.string().trim().min(1).max(200),
  reason: z.string().max(1000).optional(),
  allowRemovedSchedule: z.boolean().default(false),
});
const decisionSchema = z.strictObject({
  ids: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(1000)])
    .transform((ids) => (Array.isArray(ids) ? ids : [ids])),
  actor: z.string().trim().min(1).max(200),
  reason: z.string().max(1000).optional(),
});
const approveSchema = decisionSchema.extend({ allowRemovedSchedule: z.boolean().default(false) });
const orderListSchema = z.strictObject({
  scheduleId: z.string().min(1).optional(),
  executionId: z.string().min(1).optional(),
  symbol: z.string().min(1).optional(),
  status: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});
const auditListSchema = z.strictObject({
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional(),
  subjectType: z.string().min(1).optional(),
  subjectId: z.string().min(1).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  cursor: z.string().nullable().optional(),
});

/** Filters of {@link Scheduler.listSchedules}; a schedule must match every one given. */
export interface ScheduleListInput {
  /** A tag the schedule carries, or several it carries all of. */
  tag?: string | string[];
  job?: string;
  enabled?: boolean;
  paused?: boolean;
}

const scheduleListSchema = z.strictObject({
  tag: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  job: z.string().min(1).optional(),
  enabled: z.boolean().optional(),
  paused: z.boolean().optional(),
});

/** Filters of {@link Scheduler.listApprovals}. */
export interface ApprovalListInput {
  status?: ApprovalStatus | ApprovalStatus[];
  riskLevel?: RiskLevel | RiskLevel[];
  scheduleId?: string;
  executionId?: string;
  /** Members of this approval group only. */
  groupId?: string;
  limit?: number;
  cursor?: string | null;
}

/** Filters of {@link Scheduler.listOrders}. */
export interface OrderListInput {
  scheduleId?: string;
  executionId?: string;
  symbol?: string;
  status?: string | string[];
  from?: InstantInput;
  to?: InstantInput;
  limit?: number;
  cursor?: string | null;
}

/** Filters of {@link Scheduler.listAudit}. */
export interface AuditListInput {
  actor?: string;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  from?: InstantInput;
  to?: InstantInput;
  limit?: number;
  cursor?: string | null;
}

interface ScheduleState extends QueueEntry {
  record: ScheduleRecord;
  trigger: Trigger | null;
  /** Fires at or before this instant have been handled (run, skipped or recorded as missed). */
  lastAt: number;
  running: number;
  lastStartAt: number | null;
  lastEndAt: number | null;
  lastStatus: ExecutionStatus | null;
  lastSuccessAt: number | null;
  waiters: Set<() => void> | null;
}

function actorOf(options: ActorOptions | undefined): string {
  return parseInput(actorSchema, { actor: options?.actor }, "scheduler").actor;
}

const idSchema = z.string().min(1).max(200);

/** A record id argument, checked to be a string (42 is not coerced to '42'). */
function idOf(id: unknown, field = "id"): string {
  return parseInput(idSchema, id, "scheduler", field);
}

/** The object without its undefined (and null cursor) fields: storage queries take absent, not undefined. */
function definedOnly<T extends object>(query: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || (key === "cursor" && !value)) continue;
    out[key] = value;
  }
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** The input field that decides a trigger's fires, and the code of its errors, by trigger type. */
const TRIGGER_FIELD = {
  cron: ["trigger.expression", "INVALID_CRON"],
  interval: ["trigger.every", "INVALID_INTERVAL"],
  once: ["trigger.at", "INVALID_INSTANT"],
  market: ["trigger.event", "VALIDATION"],
} as const satisfies Record<ScheduleRecord["trigger"]["type"], readonly [string, string]>;

function formatLocalDate(local: number): string {
  return new Date(local).toISOString().slice(0, 10);
}

function formatLocal(local: number): string {
  const p = localParts(local);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
}

/**
 * The tradecron scheduler. Register jobs, create schedules, `start()`. Every public call validates
 * its input and throws a {@link TradecronError} naming the field; failures inside the loop become
 * `scheduler:error` events and never stop it.
 */
export class Scheduler extends EventEmitter<SchedulerEventMap> {
  /** This instance's id in claims and leases. */
  readonly instanceId: string;
  /** The storage in use. */
  readonly storage: Storage;
  /** The clock in use. */
  readonly clock: Clock;
  /** The logger in use. */
  readonly logger: Logger;

  private readonly leaseMs: number;
  private readonly maxWaitMs: number;
  private readonly syncIntervalMs: number;
  private readonly overlapPollMs: number;
  private readonly strictJobs: boolean;
  private readonly random: () => number;

  private readonly jobs = new Map<string, JobDefinition>();
  private readonly states = new Map<string, ScheduleState>();
  private readonly queue = new FireQueue<ScheduleState>();
  private readonly runs = new Set<Run>();
  /** Revisions this instance is writing itself; change notifications of them are not news. */
  private readonly ownWrites = new Map<string, number>();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly counters: Counters = newCounters();
  /** Stored records this instance refused (invalid schedules, an unreadable control record). */
  private readonly trust = new TrustReport();
  /** Counters of each schedule since this instance started (from the events). */
  private readonly perSchedule = new Map<string, ScheduleCounters>();
  /** The trading side's periodic work in progress (approvals, broker reconnect), if any. */
  private tradingMaintenance: Promise<void> | null = null;
  /** Fires whose claim was sent and whose start (or hand-over) is not decided yet. */
  private readonly claiming = new InFlight();
  /** Holds the process open while started (option `keepAlive`) and while stopping. */
  private readonly keepAlive = new KeepAlive();
  private readonly keepAliveWhileStarted: boolean;
  /** Set once stop() passed its deadline: fires not started by then are handed over, not started. */
  private stopCutoff = false;

  private lifecycle: SchedulerState = "stopped";
  private paused = false;
  private control: ControlRecord = {
    pausedAll: false,
    pausedAt: null,
    pausedBy: null,
    reason: null,
    revision: 0,
  };
  private timer: unknown = null;
  /** True while a burst of due fires is being started batch by batch; the timer waits for it. */
  private draining = false;
  private timerSetAt = 0;
  private timerDelay = 0;
  private lastWakeAt: number | null = null;
  private maintenanceTimer: unknown = null;
  private lastSyncAt = 0;
  private startedAt: number | null = null;
  private heartbeatAt: number | null = null;
  private storageFailures = 0;
  private unwatch: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private readonly runnerDeps: RunnerDeps;
  /** Broker, risk guard, order desk and approval queue. */
  private readonly trading: Trading;
  private readonly notifier: NotifierHub;
  /** Prunes the stored history in the background (retention.ts). */
  private readonly retention: Retention;

  constructor(options: SchedulerOptions = {}) {
    super();
    const o = parseInput(optionsSchema, options, "scheduler", "options");
    this.storage = o.storage ?? new MemoryStorage();
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
    this.instanceId =
      o.instanceId ?? `${hostname()}:${process.pid}:${Math.random().toString(16).slice(2, 6)}`;
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxWaitMs = o.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.syncIntervalMs = o.syncIntervalMs ?? 1000;
    this.overlapPollMs = o.overlapPollMs ?? 1000;
    this.strictJobs = o.strictJobs ?? true;
    this.random = o.random ?? Math.random;
    this.keepAliveWhileStarted = o.keepAlive ?? true;
    this.runnerDeps = {
      storage: this.storage,
      clock: this.clock,
      instanceId: this.instanceId,
      logger: this.logger,
      counters: this.counters,
      random: this.random,
      emit: (name, payload) => this.emitSafe(name, payload),
      contextExtras: (run, schedule) => this.trading.contextExtras(run, schedule),
      onSettled: (run, schedule) => this.onRunSettled(run, schedule),
      // A run that starts waiting between attempts while the scheduler stops is handed over.
      onBackoff: (run) => {
        if (this.lifecycle === "stopping")
          this.background(this.handOver(run), `handing over ${run.execution.id}`);
      },
    };
    this.notifier = new NotifierHub({
      notifiers: o.notifiers ?? [],
      clock: this.clock,
      onError: (error, where) => this.reportError(error, `notifier ${where.notifier}`),
    });
    this.trading = new Trading(
      {
        storage: this.storage,
        clock: this.clock,
        counters: this.counters,
        logger: this.logger,
        emit: (name, payload) => this.emitSafe(name, payload),
        audit: (actor, action, subjectType, subjectId, details) =>
          this.audit(actor, action, subjectType, subjectId, details),
        notify: (notice) => this.notify(notice),
        reportError: (error, context) => this.reportError(error, context),
        background: (task, context) => this.background(task, context),
        track: (task) => this.track(task.catch(() => {})),
      },
      {
        broker: o.broker ?? null,
        risk: o.risk ?? {},
        riskRules: o.riskRules ?? [],
        approvalExpiryMs: o.approvalExpiry ?? DEFAULT_APPROVAL_EXPIRY_MS,
        prices: o.prices ?? null,
        marketHours: o.marketHours ?? null,
      },
      (id) => this.states.get(id)?.record ?? null,
    );
    this.retention = new Retention(
      {
        storage: this.storage,
        clock: this.clock,
        logger: this.logger,
        schedules: () => [...this.states.values()].map((st) => st.record),
        nextFireAt: () => this.queue.peek()?.at ?? null,
        emit: (payload) => this.emitSafe("retention:pruned", payload),
        reportError: (error, context) => this.reportError(error, context),
      },
      resolveRetention(o.retention),
    );
  }

  /**
   * Runs one retention pass now and resolves with what it deleted (null when retention is off or
   * the storage cannot prune); the background passes run on their own. See docs/retention.md.
   */
  prune(): Promise<RetentionCounts | null> {
    return this.retention.runOnce();
  }

  /**
   * Queues a notification for every notifier and returns at once: a slow or failing webhook never
   * delays a fire. Delivery failures become `scheduler:error` events.
   */
  private notify(notice: TradingNotice): void {
    this.notifier.notify({ ...notice, timestamp: this.clock.now() });
  }

  /** Waits until queued notifications are delivered (or given up); for shutdown and tests. */
  flushNotifications(): Promise<void> {
    return this.notifier.flush();
  }

  // ------------------------------------------------------------------------------------------
  // events

  /**
   * Emits without letting a throwing listener reach the loop. Every event is first counted per
   * schedule and logged (`event-log.ts`), before any listener can throw.
   */
  protected emitSafe<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void {
    try {
      countEvent(this.perSchedule, name, payload);
      logEvent(this.logger, name, payload);
    } catch {
      // A throwing logger must not reach the loop either.
    }
    try {
      (this.emit as (n: string, p: unknown) => boolean)(name, payload);
    } catch (error) {
      if (name === "scheduler:error") {
        this.logger.error({ err: toError(error) }, "scheduler:error listener threw");
        return;
      }
      this.emitSafe("scheduler:error", { error: toError(error), context: `listener of ${name}` });
    }
  }

  private reportError(error: unknown, context: string): void {
    const e = toError(error);
    this.logger.error({ err: e, context }, `scheduler: ${context} failed: ${e.message}`);
    this.emitSafe("scheduler:error", { error: e, context });
  }

  /** Runs a background task, tracking it so `stop()` can wait for it. Errors become events. */
  private background(task: Promise<unknown>, context: string | (() => string)): void {
    this.track(
      task.catch((error) => this.reportError(error, typeof context === "string" ? context : context())),
    );
  }

  /** Tracks a task that never rejects, so `stop()` waits for it. */
  private track(task: Promise<unknown>): void {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  private storageOk(): void {
    this.storageFailures = 0;
  }

  private storageFailed(error: unknown, context: string): void {
    this.storageFailures++;
    this.reportError(error, context);
  }

  // ------------------------------------------------------------------------------------------
  // jobs

  /**
   * Registers the handler of job `name`. Schedules name jobs; an instance only runs the schedules
   * whose job it has registered.
   */
  register<TData = JsonValue | null>(
    name: string,
    handler: JobHandler<TData>,
    options: { description?: string } = {},
  ): this {
    if (typeof name !== "string" || name.trim() === "" || name.length > 200) {
      throw new ValidationError(
        [{ field: "name", code: "VALIDATION", message: "job name must be 1-200 characters" }],
        {
          component: "scheduler",
        },
      );
    }
    if (typeof handler !== "function") {
      throw new ValidationError(
        [{ field: "handler", code: "VALIDATION", message: "handler must be a function" }],
        {
          component: "scheduler",
        },
      );
    }
    if (this.jobs.has(name))
      throw new ConflictError("JOB_EXISTS", `job '${name}' is registered already`, { field: "name" });
    this.jobs.set(name, {
      name,
      handler: handler as JobHandler<never>,
      description: options.description ?? null,
    });
    for (const st of this.states.values()) if (st.record.job === name) this.arm(st);
    return this;
  }

  /** Names of the registered jobs. */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  // ------------------------------------------------------------------------------------------
  // schedules

  private async audit(
    actor: string,
    action: string,
    subjectType: string,
    subjectId: string | null,
    details: JsonValue | null,
  ) {
    try {
      await this.storage.appendAudit({
        at: this.clock.now(),
        actor,
        action,
        subjectType,
        subjectId,
        details,
      });
    } catch (error) {
      this.storageFailed(error, `audit ${action}`);
    }
  }

  private checkJob(job: string): void {
    if (this.strictJobs && !this.jobs.has(job)) {
      const known = this.jobNames();
      throw new ValidationError(
        [
          {
            field: "job",
            code: "UNKNOWN_JOB",
            message: `unknown job '${job}' (registered: ${known.length ? known.join(", ") : "none"})`,
          },
        ],
        { component: "scheduler" },
      );
    }
  }

  private checkFires(record: ScheduleRecord): Trigger {
    const trigger = compileTrigger(record.trigger, record.id);
    const next = trigger.next(this.clock.now());
    if (next === null || next > MAX_INSTANT) {
      const [field, code] = TRIGGER_FIELD[record.trigger.type];
      const message =
        next === null
          ? "the trigger has no fire in the future"
          : `the next fire (${next} ms) is beyond the Date range (${MAX_INSTANT} ms)`;
      throw new ValidationError([{ field, code, message }], { component: "scheduler" });
    }
    return trigger;
  }

  /** Creates a schedule. Throws on bad input (naming the field) or when the id is taken. */
  async createSchedule(input: ScheduleInput, options?: ActorOptions): Promise<ScheduleRecord> {
    const actor = actorOf(options);
    const record = buildScheduleRecord(input, this.clock.now());
    this.checkJob(record.job);
    const trigger = this.checkFires(record);
    await this.writeOwn(record, () => this.storage.insertSchedule(record), trigger, record.firesSince);
    await this.audit(actor, "schedule.create", "schedule", record.id, {
      job: record.job,
      trigger: record.trigger as never,
    });
    this.emitSafe("schedule:created", { schedule: record, actor });
    return record;
  }

  /**
   * Updates a schedule with the given fields (the rest are kept). With `expectedRevision`, the
   * update only applies if nobody changed the schedule since (ConflictError otherwise).
   */
  async updateSchedule(
    id: string,
    update: ScheduleUpdate,
    options: ActorOptions & { expectedRevision?: number } = {},
  ): Promise<ScheduleRecord> {
    id = idOf(id);
    const { actor, expectedRevision } = parseInput(
      z.strictObject({
        actor: z.string().trim().min(1).max(200).default("system"),
        expectedRevision: z.number().int().min(1).optional(),
      }),
      options,
      "scheduler",
      "",
      "options",
    );
    if (update && typeof update === "object" && "id" in update) {
      throw new ValidationError(
        [{ field: "id", code: "VALIDATION", message: "the id of a schedule cannot change" }],
        {
          component: "scheduler",
        },
      );
    }
    const previous = await this.getSchedule(id);
    if (expectedRevision !== undefined && expectedRevision !== previous.revision) {
      throw new ConflictError(
        "REVISION_CONFLICT",
        `schedule '${id}' is at revision ${previous.revision}, not ${expectedRevision}`,
        { field: "revision", details: { current: previous.revision, expected: expectedRevision } },
      );
    }
    const record = buildScheduleRecord(update, this.clock.now(), previous);
    if (record.job !== previous.job) this.checkJob(record.job);
    const trigger = this.checkFires(record);
    await this.writeOwn(record, () => this.storage.updateSchedule(record, previous.revision), trigger);
    await this.audit(actor, "schedule.update", "schedule", id, {
      revision: record.revision,
      changed: Object.keys(update),
    });
    this.emitSafe("schedule:updated", { schedule: record, previous, actor });
    return record;
  }

  /**
   * The schedule with this id; NotFoundError if there is none, StorageError `STORAGE_CORRUPT` if
   * the stored record fails its checks (remove it and create it again, or fix it in storage).
   */
  async getSchedule(id: string): Promise<ScheduleRecord> {
    id = idOf(id);
    const record = await this.storage.getSchedule(id);
    if (!record) throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${id}' not found`, { field: "id" });
    const problem = storedScheduleProblem(record);
    if (problem) {
      throw new StorageError("STORAGE_CORRUPT", `stored schedule '${id}' cannot be used: ${problem.reason}`, {
        field: "id",
        details: { scheduleId: id, reason: problem.reason },
      });
    }
    return record;
  }

  /**
   * Every schedule, ordered by id, or those matching every given filter: `tag` (a tag, or several
   * the schedule must all carry), `job`, `enabled`, `paused`.
   */
  async listSchedules(filter: ScheduleListInput = {}): Promise<ScheduleRecord[]> {
    const f = parseInput(scheduleListSchema, filter, "scheduler", "", "filter");
    const tags = f.tag === undefined ? [] : [f.tag].flat();
    return (await this.storage.listSchedules()).filter(
      (s) =>
        (f.job === undefined || s.job === f.job) &&
        (f.enabled === undefined || s.enabled === f.enabled) &&
        (f.paused === undefined || s.paused === f.paused) &&
        tags.every((t) => s.tags.includes(t)),
    );
  }

  /** Removes a schedule (its history stays). NotFoundError if it does not exist. */
  async removeSchedule(id: string, options?: ActorOptions): Promise<void> {
    id = idOf(id);
    const actor = actorOf(options);
    const existed = await this.storage.deleteSchedule(id);
    if (!existed)
      throw new NotFoundError("SCHEDULE_NOT_FOUND", `schedule '${id}' not found`, { field: "id" });
    this.drop(id);
    await this.audit(actor, "schedule.remove", "schedule", id, null);
    this.emitSafe("schedule:removed", { id, actor });
  }

  /** Writes a schedule this instance changed and adopts it, ignoring the echo of its own change notification. */
  private async writeOwn(
    record: ScheduleRecord,
    write: () => Promise<void>,
    trigger: Trigger,
    lastAt?: number,
  ): Promise<void> {
    // Frozen before the write: storage may then keep this very object instead of a copy.
    Object.freeze(record);
    this.ownWrites.set(record.id, record.revision);
    try {
      await write();
      this.adopt(record, trigger, lastAt);
    } finally {
      if (this.ownWrites.get(record.id) === record.revision) this.ownWrites.delete(record.id);
    }
  }

  private async setPaused(id: string, paused: boolean, actor: string): Promise<ScheduleRecord> {
    const previous = await this.getSchedule(id);
    if (previous.paused === paused) return previous;
    const record: ScheduleRecord = {
      ...previous,
      paused,
      revision: previous.revision + 1,
      updatedAt: this.clock.now(),
    };
    await this.writeOwn(
      record,
      () => this.storage.updateSchedule(record, previous.revision),
      compileTrigger(record.trigger, record.id),
    );
    await this.audit(actor, paused ? "schedule.pause" : "schedule.resume", "schedule", id, null);
    this.emitSafe(paused ? "schedule:paused" : "schedule:resumed", { schedule: record, actor });
    return record;
  }

  /** Pauses one schedule (persisted). Its missed fires follow its misfire policy on resume. */
  pauseSchedule(id: string, options?: ActorOptions): Promise<ScheduleRecord> {
    return this.setPaused(id, true, actorOf(options));
  }

  /** Resumes a paused schedule. */
  resumeSchedule(id: string, options?: ActorOptions): Promise<ScheduleRecord> {
    return this.setPaused(id, false, actorOf(options));
  }

  // ------------------------------------------------------------------------------------------
  // arming

  private adopt(record: ScheduleRecord, trigger: Trigger | null, lastAt?: number): void {
    let st = this.states.get(record.id);
    // A schedule coming out of a pause treats everything that fell due meanwhile as missed.
    const afterPause = st?.record.paused === true && !record.paused;
    if (!st) {
      st = {
        record,
        trigger,
        lastAt: lastAt ?? record.firesSince,
        at: 0,
        seq: 0,
        index: -1,
        running: 0,
        lastStartAt: null,
        lastEndAt: null,
        lastStatus: null,
        lastSuccessAt: null,
        waiters: null,
      };
      this.states.set(record.id, st);
    } else {
      st.record = record;
      st.trigger = trigger;
      if (record.firesSince > st.lastAt) st.lastAt = record.firesSince;
    }
    if (!this.jobs.has(record.job)) this.emitSafe("schedule:unhandled", { schedule: record });
    this.arm(st, afterPause);
  }

  private drop(id: string): void {
    const st = this.states.get(id);
    if (!st) return;
    this.queue.delete(st);
    this.states.delete(id);
    this.perSchedule.delete(id);
    this.scheduleTimer();
  }

  private canFire(): boolean {
    return this.lifecycle === "running" && !this.paused && !this.control.pausedAll;
  }

  private eligible(st: ScheduleState): boolean {
    return st.trigger !== null && st.record.enabled && !st.record.paused && this.jobs.has(st.record.job);
  }

  /**
   * Plans a schedule at the current time: handles what is due or missed, queues its next fire.
   * After a pause (`afterPause`), every fire that came while paused counts as missed, however
   * recent: the lateness tolerance is for a stalled process, not for a deliberate pause.
   */
  private arm(st: ScheduleState, afterPause = false): void {
    this.queue.delete(st);
    if (this.canFire() && this.eligible(st)) this.processDue(st, this.clock.now(), afterPause);
    this.scheduleTimer();
  }

  private armAll(afterPause = false): void {
    for (const st of this.states.values()) {
      this.queue.delete(st);
      if (this.canFire() && this.eligible(st)) this.processDue(st, this.clock.now(), afterPause);
    }
    this.scheduleTimer();
  }

  private disarmAll(): void {
    this.queue.clear();
    this.clearTimer();
  }

  /** Runs the misfire planner for `st` over (lastAt, now] and acts on the plan. */
  private processDue(st: ScheduleState, now: number, strict = false): void {
    const trigger = st.trigger as Trigger;
    const policy = strict ? { ...st.record.misfire, toleranceMs: 0 } : st.record.misfire;
    const plan = planFires(trigger, policy, st.lastAt, now);
    if (plan.due > 0) st.lastAt = now;
    if (plan.missed) {
      const m = plan.missed;
      this.background(
        this.recordMissed(st.record, m.lastAt, m.reason, m),
        `recording missed fires of ${st.record.id}`,
      );
    }
    if (plan.missedTotal) {
      const t = plan.missedTotal;
      this.counters.missed += t.count;
      this.emitSafe("fire:missed", {
        scheduleId: st.record.id,
        count: t.count,
        firstAt: t.firstAt,
        lastAt: t.lastAt,
        policy: st.record.misfire.policy,
        ran: plan.run.filter((r) => r.kind === "catchup").length,
      });
    }
    if (plan.run.length === 1) {
      const only = plan.run[0] as { at: number; kind: "scheduled" | "catchup" };
      this.background(this.fire(st, only.at, only.kind, null), `fire of ${st.record.id}`);
    } else if (plan.run.length > 1) {
      // Catch-up fires run one after another, so the overlap policy does not skip them.
      const runs = plan.run;
      this.background(
        (async () => {
          for (const r of runs) {
            const outcome = await this.fire(st, r.at, r.kind, null);
            await outcome.done;
          }
        })(),
        `catch-up of ${st.record.id}`,
      );
    }
    if (plan.next !== null) this.queue.set(st, plan.next);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private scheduleTimer(): void {
    if (!this.canFire()) {
      this.clearTimer();
      return;
    }
    if (this.draining) return;
    const head = this.queue.peek();
    const now = this.clock.now();
    const delay = head ? Math.min(Math.max(0, head.at - now), this.maxWaitMs) : this.maxWaitMs;
    if (this.timer !== null && this.timerSetAt + this.timerDelay === now + delay) return;
    this.clearTimer();
    this.timerSetAt = now;
    this.timerDelay = delay;
    this.timer = this.clock.setTimeout(() => this.wake(), delay);
  }

  private wake(): void {
    this.timer = null;
    const now = this.clock.now();
    this.heartbeatAt = now;
    const expected = this.timerSetAt + this.timerDelay;
    if (this.lastWakeAt !== null && now < this.lastWakeAt) {
      this.emitSafe("timer:drift", {
        kind: "backwards",
        expectedAt: expected,
        at: now,
        byMs: this.lastWakeAt - now,
      });
    } else if (now < expected - 1) {
      this.emitSafe("timer:drift", { kind: "early", expectedAt: expected, at: now, byMs: expected - now });
    }
    this.lastWakeAt = now;
    this.fireDue(now);
  }

  /**
   * Starts the fires due at `now`, at most {@link FIRE_BATCH} at a time: the next batch starts once
   * the handlers of this one have (each fire's claim and start are a few microtasks), so a burst of
   * thousands keeps a small working set and the first handlers start at once, instead of every
   * claim of the burst being made before the first handler runs. Every batch counts as on time
   * against the same `now`.
   */
  private fireDue(now: number): void {
    if (!this.canFire()) return;
    const batch: Promise<unknown>[] = [];
    for (let head = this.queue.peek(); head && head.at <= now; head = this.queue.peek()) {
      if (batch.length >= FIRE_BATCH) {
        this.clearTimer();
        this.draining = true;
        // A fire that waits for an earlier run (overlap `buffer_*`) or for a remote storage must not
        // hold the rest: the next batch also starts at the next turn of the event loop.
        void Promise.race([Promise.allSettled(batch), nextTurn()]).then(() => {
          this.draining = false;
          this.fireDue(now);
        });
        return;
      }
      this.queue.delete(head);
      const late = now - head.at;
      if (late > head.record.misfire.toleranceMs) {
        this.emitSafe("timer:drift", { kind: "late", expectedAt: head.at, at: now, byMs: late });
      } else {
        const following = (head.trigger as Trigger).next(head.at);
        if (following === null || following > now) {
          // The common case: exactly one fire due and on time.
          head.lastAt = head.at;
          const outcome = this.fire(head, head.at, "scheduled", null);
          const id = head.record.id;
          this.background(outcome, () => `fire of ${id}`);
          batch.push(outcome);
          if (following !== null) this.queue.set(head, following);
          continue;
        }
      }
      this.processDue(head, now);
    }
    this.scheduleTimer();
  }

  // ------------------------------------------------------------------------------------------
  // fires

  private newExecution(
    record: ScheduleRecord,
    at: number,
    kind: FireKind,
    actor: string | null,
    now: number,
  ): ExecutionRecord {
    return {
      id: crypto.randomUUID(),
      scheduleId: record.id,
      job: record.job,
      scheduledAt: at,
      kind,
      status: "running",
      reason: null,
      attempts: 1,
      claimedAt: now,
      startedAt: now,
      endedAt: null,
      instanceId: this.instanceId,
      leaseExpiresAt: now + this.leaseMs,
      actor,
      error: null,
      result: null,
      details: null,
      idempotencyKey: fireIdempotencyKey(record.id, at),
    };
  }

  private recordMissed(
    record: ScheduleRecord,
    at: number,
    reason: SkipReason,
    details: { count: number; firstAt: number; lastAt: number; capped: boolean },
  ): Promise<ExecutionRecord | null> {
    return this.recordSkip(record, at, "scheduled", null, reason, {
      missed: details.count,
      firstAt: details.firstAt,
      lastAt: details.lastAt,
      capped: details.capped,
    });
  }

  /** Claims a fire directly as skipped (one write, no run). Returns the record, or the holder's. */
  private async recordSkip(
    record: ScheduleRecord,
    at: number,
    kind: FireKind,
    actor: string | null,
    reason: SkipReason,
    details: JsonValue | null,
  ): Promise<ExecutionRecord | null> {
    const now = this.clock.now();
    const execution: ExecutionRecord = {
      ...this.newExecution(record, at, kind, actor, now),
      status: "skipped",
      reason,
      attempts: 0,
      startedAt: null,
      endedAt: now,
      leaseExpiresAt: null,
      details,
    };
    try {
      const res = await this.storage.claimFire({ execution });
      this.storageOk();
      if (!res.claimed) return res.existing;
      this.counters.skipped++;
      this.emitSafe("run:skipped", { execution: res.execution, reason });
      return res.execution;
    } catch (error) {
      this.storageFailed(error, `recording a skipped fire of ${record.id}`);
      return null;
    }
  }

  /** Why `record` would not run at `at` because of the market (null: it would). */
  private marketSkip(record: ScheduleRecord, at: number): { reason: SkipReason; details: JsonValue } | null {
    if (!record.marketHoursOnly) return null;
    const calendar = getCalendar(record.calendar);
    if (calendar.isOpen(at)) return null;
    const day = calendar.dayInfo(formatLocalDate(toLocal(calendar.timezone, at)));
    return {
      reason: "market_closed",
      details: {
        calendar: calendar.code,
        date: day.date,
        why: day.reason ?? (day.session ? "outside session hours" : "no session"),
      },
    };
  }

  /**
   * Claims fire (schedule, at) and, if this instance won it, runs it under the overlap policy.
   * `done` settles with the final record (or the other holder's record when the claim was lost).
   */
  private fire(
    st: ScheduleState,
    at: number,
    kind: FireKind,
    actor: string | null,
  ): Promise<{ claimed: boolean; execution: ExecutionRecord | null; done: Promise<ExecutionRecord | null> }> {
    // A stopping scheduler claims nothing new; the claims already sent are seen through by stop().
    if (this.lifecycle === "stopping" || this.lifecycle === "stopped") {
      return Promise.resolve({ claimed: false, execution: null, done: Promise.resolve(null) });
    }
    // Tracked before the claim is sent: a stop() called meanwhile (even from within the storage
    // call) must already see this claim as in flight.
    const decided = this.claiming.begin();
    const outcome = this.claimAndStart(st, at, kind, actor);
    void outcome.then(decided, decided);
    return outcome;
  }

  private async claimAndStart(
    st: ScheduleState,
    at: number,
    kind: FireKind,
    actor: string | null,
  ): Promise<{ claimed: boolean; execution: ExecutionRecord | null; done: Promise<ExecutionRecord | null> }> {
    const record = st.record;
    const closed = kind === "manual" ? null : this.marketSkip(record, at);
    if (closed) {
      const skipped = await this.recordSkip(record, at, kind, actor, closed.reason, closed.details);
      const mine =
        skipped !== null && skipped.instanceId === this.instanceId && skipped.reason === closed.reason;
      return { claimed: mine, execution: skipped, done: Promise.resolve(skipped) };
    }
    const now = this.clock.now();
    let claim: Awaited<ReturnType<Storage["claimFire"]>>;
    try {
      // Frozen, so storages that keep records in memory may keep this one instead of a copy.
      const execution = Object.freeze(this.newExecution(record, at, kind, actor, now));
      claim = await this.storage.claimFire({ execution });
      this.storageOk();
    } catch (error) {
      this.storageFailed(error, `claiming fire ${record.id}@${at}`);
      return { claimed: false, execution: null, done: Promise.resolve(null) };
    }
    if (!claim.claimed) {
      this.emitSafe("fire:taken", {
        scheduleId: record.id,
        scheduledAt: at,
        holder: claim.existing.instanceId,
      });
      return { claimed: false, execution: claim.existing, done: Promise.resolve(claim.existing) };
    }
    this.counters.fires++;
    this.emitSafe("fire:claimed", { execution: claim.execution });
    const run = new Run(claim.execution, "handler");
    this.runs.add(run);
    st.running++;
    await this.startClaimed(st, run, true);
    return { claimed: true, execution: run.execution, done: run.done };
  }

  /**
   * Starts a fire this instance holds but has not started, unless shutdown has passed its
   * deadline (it is handed over unstarted), the job is not registered here, the broker the
   * schedule requires is down, or (with `checkOverlap`) the overlap policy skips or buffers it.
   */
  private async startClaimed(st: ScheduleState, run: Run, checkOverlap: boolean): Promise<void> {
    const record = st.record;
    const job = this.jobs.get(record.job);
    if (this.stopCutoff) return this.giveBack(run, st);
    // Only possible if the job was unregistered between arming and claiming.
    if (!job) return this.finishWithoutRun(run, st, "skipped", "unknown_job");
    if (!this.trading.brokerReady(record))
      return this.finishWithoutRun(run, st, "skipped", "broker_disconnected");
    if (checkOverlap && record.overlap !== "allow" && !(await this.resolveOverlap(st, run))) return;
    // Shutdown may have passed its deadline while the overlap check waited for storage.
    if (this.stopCutoff || run.cancelReason === SHUTDOWN_HANDOVER) return this.giveBack(run, st);
    st.lastStartAt = this.clock.now();
    this.background(executeRun(run, record, job, this.runnerDeps), () => `run of ${record.id}`);
  }

  /** A fire cancelled before its handler started: handed over at shutdown, else recorded as cancelled. */
  private abandon(run: Run, st: ScheduleState): Promise<void> {
    if (run.cancelReason === SHUTDOWN_HANDOVER) return this.giveBack(run, st);
    return this.finishWithoutRun(run, st, "cancelled", run.cancelReason ?? "cancelled");
  }

  /**
   * Gives back a fire this instance holds but did not start (shutdown): its lease is expired at
   * once, so exactly one other instance (or this one after a restart) takes it over. A fire never
   * started goes back to `claimed` with no attempt used, and runs as attempt 1 there; a taken-over
   * fire gets back the attempt its takeover counted.
   */
  private async giveBack(run: Run, st: ScheduleState): Promise<void> {
    run.handedOver = true;
    const e = run.execution;
    const now = this.clock.now();
    const patch =
      e.attempts <= 1
        ? { status: "claimed" as const, attempts: 0, startedAt: null, leaseExpiresAt: now }
        : { attempts: e.attempts - 1, leaseExpiresAt: now };
    try {
      const updated = await this.storage.updateExecution(e.id, this.instanceId, patch);
      this.storageOk();
      if (updated) {
        run.execution = updated;
        this.emitSafe("fire:handed-over", { execution: updated, reason: "shutdown" });
      }
    } catch (error) {
      // Not written: the lease is not renewed any more, so another instance takes it over when it runs out.
      this.storageFailed(error, `handing over ${e.id}`);
    }
    run.settle(null);
    this.onRunSettled(run, st.record);
  }

  private async finishWithoutRun(
    run: Run,
    st: ScheduleState,
    status: "skipped" | "cancelled",
    reason: string,
  ): Promise<void> {
    const now = this.clock.now();
    try {
      const updated = await this.storage.updateExecution(run.execution.id, this.instanceId, {
        status,
        reason,
        attempts: 0,
        startedAt: null,
        endedAt: now,
        leaseExpiresAt: null,
      });
      this.storageOk();
      if (updated) run.execution = updated;
    } catch (error) {
      this.storageFailed(error, `recording ${status} fire ${run.execution.id}`);
    }
    if (status === "skipped") {
      this.counters.skipped++;
      this.emitSafe("run:skipped", { execution: run.execution, reason });
    } else {
      this.counters.cancelled++;
      this.emitSafe("run:cancelled", { execution: run.execution, reason });
    }
    run.settle(run.execution);
    this.onRunSettled(run, st.record);
  }

  /**
   * Applies the overlap policy. Returns true if the run should start now. Fails closed: when the
   * storage cannot say whether an earlier run is active, that counts as "busy" and the check is
   * asked again (every `overlapPollMs`) for as long as the fire is within its misfire tolerance;
   * after that the fire is skipped with reason `overlap_unknown`. It never starts unchecked.
   */
  private async resolveOverlap(st: ScheduleState, run: Run): Promise<boolean> {
    const policy = st.record.overlap;
    const mine = run.execution;
    const giveUpAt = mine.claimedAt + st.record.misfire.toleranceMs;
    let others: ExecutionRecord[] | null = null;
    while (others === null) {
      try {
        others = (await this.storage.activeExecutions(mine.scheduleId)).filter((e) => e.id !== mine.id);
        this.storageOk();
      } catch (error) {
        this.storageFailed(error, `checking overlap of ${mine.scheduleId}`);
        if (this.clock.now() >= giveUpAt) {
          await this.finishWithoutRun(run, st, "skipped", "overlap_unknown");
          return false;
        }
        run.phase = "waiting";
        await this.waitForChange(st, run.controller.signal);
        run.phase = "handler";
        if (run.aborted) {
          await this.abandon(run, st);
          return false;
        }
      }
    }
    if (others.length === 0) return true;
    if (policy === "skip") {
      await this.finishWithoutRun(run, st, "skipped", "overlap");
      return false;
    }
    if (policy === "cancel_previous") {
      for (const other of others) await this.cancelOther(other);
      return true;
    }
    if (policy === "buffer_one" && others.some((e) => e.status === "claimed")) {
      await this.finishWithoutRun(run, st, "skipped", "overlap_buffer_full");
      return false;
    }
    return this.waitTurn(st, run);
  }

  private async cancelOther(other: ExecutionRecord): Promise<void> {
    for (const r of this.runs) {
      if (r.execution.id === other.id) {
        r.cancel("superseded");
        return;
      }
    }
    try {
      const cancelled = await this.storage.cancelExecution(other.id, "superseded", this.clock.now());
      this.storageOk();
      if (cancelled) this.emitSafe("run:cancelled", { execution: cancelled, reason: "superseded" });
    } catch (error) {
      this.storageFailed(error, `cancelling ${other.id}`);
    }
  }

  /** Buffers a fire until no earlier fire of its schedule is active (here or on another instance). */
  private async waitTurn(st: ScheduleState, run: Run): Promise<boolean> {
    run.phase = "waiting";
    const mine = run.execution;
    const parked = await this.storage
      .updateExecution(mine.id, this.instanceId, { status: "claimed", attempts: 0, startedAt: null })
      .catch((error: unknown) => {
        this.storageFailed(error, `buffering ${mine.id}`);
        return null;
      });
    if (parked) run.execution = parked;
    for (;;) {
      if (run.controller.signal.aborted) break;
      let blocking = true;
      try {
        const active = await this.storage.activeExecutions(mine.scheduleId);
        this.storageOk();
        blocking = active.some(
          (e) => e.id !== mine.id && (e.status === "running" || e.scheduledAt < mine.scheduledAt),
        );
      } catch (error) {
        this.storageFailed(error, `checking overlap of ${mine.scheduleId}`);
      }
      if (!blocking) break;
      await this.waitForChange(st, run.controller.signal);
    }
    if (run.controller.signal.aborted) {
      await this.abandon(run, st);
      return false;
    }
    const now = this.clock.now();
    const started = await this.storage
      .updateExecution(mine.id, this.instanceId, { status: "running", attempts: 1, startedAt: now })
      .catch((error: unknown) => {
        this.storageFailed(error, `starting buffered ${mine.id}`);
        return null;
      });
    if (!started) {
      run.settle(null);
      this.onRunSettled(run, st.record);
      return false;
    }
    run.execution = started;
    run.phase = "handler";
    return true;
  }

  private waitForChange(st: ScheduleState, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimeout(handle);
        st.waiters?.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const handle = this.clock.setTimeout(done, this.overlapPollMs);
      st.waiters ??= new Set();
      st.waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private onRunSettled(run: Run, schedule: ScheduleRecord): void {
    this.runs.delete(run);
    this.trading.runSettled(run);
    const e0 = run.execution;
    if (e0.status === "failed" || e0.status === "timed_out") {
      this.notify({
        kind: "run_failed",
        severity: "critical",
        subject: `Scheduler job failed: ${schedule.name}`,
        body: `${schedule.id} (${schedule.job}) ${e0.status === "timed_out" ? "timed out" : "failed"} after ${e0.attempts} attempt(s): ${e0.error?.message ?? "unknown error"}`,
        data: {
          scheduleId: schedule.id,
          executionId: e0.id,
          scheduledAt: e0.scheduledAt,
          attempts: e0.attempts,
          status: e0.status,
          error: e0.error as unknown as JsonValue,
        },
      });
    }
    const st = this.states.get(schedule.id);
    if (!st) return;
    st.running = Math.max(0, st.running - 1);
    const e = run.execution;
    // Only runs (a handler started) count, as in the storage's summaries: a skip is not a run.
    if (e.status !== "claimed" && e.status !== "running" && e.startedAt !== null && !run.handedOver) {
      st.lastEndAt = e.endedAt;
      st.lastStatus = e.status;
      if (e.status === "succeeded") st.lastSuccessAt = e.endedAt;
    }
    if (st.waiters) for (const w of [...st.waiters]) w();
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  /** Current lifecycle state. */
  get state(): SchedulerState {
    return this.lifecycle;
  }

  /**
   * Opens the storage, restores schedules and the emergency switch, plans what was missed while
   * down, and starts the loop. Idempotent.
   */
  async start(): Promise<void> {
    if (this.lifecycle === "running" || this.lifecycle === "paused") return;
    if (this.starting) return this.starting;
    if (this.stopping) await this.stopping;
    this.starting = this.doStart().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.lifecycle = "starting";
    try {
      await this.storage.open();
      this.control = await this.readControl();
      const records = (await this.storage.listSchedules()).filter((record) => this.trusted(record));
      // One query for every schedule's history: last fire, start, end, status and success.
      const summaries = await this.storage.scheduleSummaries(records.map((r) => r.id));
      for (const [i, record] of records.entries()) {
        this.states.delete(record.id);
        this.adoptStored(record, this.compiled(record), summaries[i] ?? null);
      }
    } catch (error) {
      this.lifecycle = "stopped";
      throw error;
    }
    if (this.storage.watch) this.unwatch = this.storage.watch((change) => this.onStorageChange(change));
    await this.trading.start();
    this.lifecycle = this.paused ? "paused" : "running";
    if (this.keepAliveWhileStarted) this.keepAlive.hold("started");
    this.startedAt = this.clock.now();
    this.heartbeatAt = this.startedAt;
    this.lastSyncAt = this.startedAt;
    this.armAll();
    this.scheduleMaintenance();
    this.retention.start();
    this.logger.info({ instanceId: this.instanceId, schedules: this.states.size }, "scheduler started");
    logNextFires(this.logger, this.scheduleStatuses(), (s) => this.whyNoFire(s));
    this.emitSafe("scheduler:started", { instanceId: this.instanceId, at: this.startedAt });
  }

  /** Adopts a stored schedule at start, with what its history says (last fire, start, end, success). */
  private adoptStored(
    record: ScheduleRecord,
    trigger: Trigger | null,
    summary: ScheduleSummary | null,
  ): void {
    const st: ScheduleState = {
      record,
      trigger,
      lastAt: Math.max(summary?.lastFireAt ?? Number.NEGATIVE_INFINITY, record.firesSince),
      at: 0,
      seq: 0,
      index: -1,
      running: 0,
      lastStartAt: summary?.lastStartAt ?? null,
      lastEndAt: summary?.lastEndAt ?? null,
      lastStatus: summary?.lastStatus ?? null,
      lastSuccessAt: summary?.lastSuccessAt ?? null,
      waiters: null,
    };
    this.states.set(record.id, st);
    if (!this.jobs.has(record.job)) this.emitSafe("schedule:unhandled", { schedule: record });
  }

  /**
   * Stops the loop, gracefully. No new fire is claimed. Every fire claimed before or during the
   * call (a claim still on its way back from storage included) runs to its end within `timeoutMs`
   * (default 30 s) and is recorded; buffered fires and runs waiting between retry attempts are
   * handed over (their lease expires at once, so another instance, or this one after a restart,
   * takes them over). At the deadline, fires not started yet are handed over unstarted, and
   * handlers still running have their signal aborted and then, by `atDeadline`:
   *
   * - `"cancel"` (the default): they are recorded as cancelled (reason `shutdown`), final;
   * - `"hand-over"` (a rolling deploy on a shared storage): nothing is recorded; once the handler
   *   has given up (its promise settled, at most 10 s after the deadline) the lease is expired at
   *   once, else left to lapse, and the attempt it was in is given back, so another instance takes
   *   the fire over and runs it again as the same attempt, with the same idempotency key (a deploy
   *   consumes no retry). Use it only where another instance (or this host after its restart)
   *   shares the storage: on a MemoryStorage nobody else can take the fire.
   *
   * The `scheduler:stopped` event lists the execution ids cancelled and handed over at the deadline.
   * It resolves only when nothing of this scheduler is running any more or will touch the storage
   * (outcomes written, hand-overs written, background work done), so a host may close the storage
   * right after; only storage writes that hang are not waited for longer than 10 s past the
   * deadline (they are reported as `scheduler:error`). It does not close the storage, which is the
   * host's and may be shared by other schedulers, unless `closeStorage: true`. It always resolves,
   * even with `keepAlive: false`: it holds the process open while it waits. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const o = parseInput(
      z.strictObject({
        timeoutMs: durationSchema.default(30_000),
        closeStorage: z.boolean().default(false),
        atDeadline: z.enum(["cancel", "hand-over"]).default("cancel"),
      }),
      options,
      "scheduler",
      "",
      "options",
    );
    if (this.lifecycle === "stopped") {
      if (o.closeStorage) await this.storage.close();
      return;
    }
    if (this.starting) await this.starting.catch(() => {});
    if (this.stopping) return this.stopping;
    this.keepAlive.hold("stop");
    this.stopping = this.doStop(o.timeoutMs, o.closeStorage, o.atDeadline).finally(() => {
      this.stopping = null;
      this.keepAlive.release("stop");
    });
    return this.stopping;
  }

  /** Work whose end stop() waits for: runs, claims on their way, background tasks. */
  private inFlight(): Promise<unknown>[] {
    return [...[...this.runs].map((r) => r.done), ...this.claiming.promises, ...this.tasks];
  }

  private async doStop(
    timeoutMs: number,
    closeStorage: boolean,
    atDeadline: "cancel" | "hand-over",
  ): Promise<void> {
    const result: StopResult = { cancelled: [], handedOver: [] };
    const now = this.clock.now();
    this.lifecycle = "stopping";
    this.emitSafe("scheduler:stopping", { instanceId: this.instanceId, at: now, running: this.runs.size });
    this.trading.halt();
    this.disarmAll();
    this.unwatch?.();
    this.unwatch = null;
    const retentionStopped = this.retention.stop();
    // Buffered fires have not started: hand them over now. Runs between attempts, likewise (a run
    // that fails during the wait is handed over as it starts its backoff: `onBackoff`).
    for (const run of [...this.runs]) {
      if (run.phase === "waiting") run.cancel(SHUTDOWN_HANDOVER);
      else if (run.phase === "backoff") await this.handOver(run);
    }
    const deadline = now + timeoutMs;
    await settleUntil(this.clock, deadline, () => this.inFlight());
    // The deadline: unstarted fires (and claims that come back from now on) are handed over,
    // handlers still running are aborted and recorded as cancelled.
    this.stopCutoff = true;
    const handingOver: Promise<void>[] = [];
    for (const run of [...this.runs]) {
      if (run.handedOver || run.phase === "done") continue;
      if (!run.started) run.cancel(SHUTDOWN_HANDOVER);
      else if (run.phase === "backoff") await this.handOver(run);
      else if (atDeadline === "hand-over") {
        result.handedOver.push(run.execution.id);
        handingOver.push(this.handOverRunning(run));
      } else {
        result.cancelled.push(run.execution.id);
        run.cancel("shutdown");
      }
    }
    await Promise.all(handingOver);
    const drained = await settleUntil(this.clock, this.clock.now() + STOP_GRACE_MS, () => this.inFlight());
    if (!drained) {
      this.reportError(
        new TradecronError(
          "STORAGE",
          `stop: ${this.inFlight().length} storage call(s) still pending ${STOP_GRACE_MS} ms after the deadline; not waiting longer`,
        ),
        "stopping",
      );
    }
    if (this.maintenanceTimer !== null) this.clock.clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = null;
    await retentionStopped;
    await this.trading.stop();
    if (timeoutMs > 0) {
      // Give queued notifications (a failure, a pause) a bounded chance to leave before exit.
      const flush = new AbortController();
      await Promise.race([
        this.notifier.flush(),
        sleep(this.clock, Math.min(timeoutMs, 5000), flush.signal).catch(() => {}),
      ]);
      flush.abort();
    }
    this.stopCutoff = false;
    this.lifecycle = "stopped";
    this.keepAlive.release("started");
    if (closeStorage) await this.storage.close();
    const at = this.clock.now();
    this.logger.info({ instanceId: this.instanceId }, "scheduler stopped");
    this.emitSafe("scheduler:stopped", { instanceId: this.instanceId, at, ...result });
  }

  /**
   * Hands over a run whose handler is still running at stop's deadline (`atDeadline:
   * "hand-over"`): its outcome is not recorded here, its signal is aborted, and the attempt is given
   * back. The lease is expired at once only after the handler settled, so the fire never runs on
   * two instances at the same time; a handler that ignores its signal leaves the lease to lapse.
   */
  private async handOverRunning(run: Run): Promise<void> {
    run.handedOver = true;
    const attempts = run.execution.attempts;
    run.cancel("handed_over");
    let handlerDone = run.handler === null;
    const handler = run.handler?.then(
      () => {
        handlerDone = true;
      },
      () => {
        handlerDone = true;
      },
    );
    const settled = await settleUntil(this.clock, this.clock.now() + STOP_GRACE_MS, () =>
      handlerDone || !handler ? [] : [handler],
    );
    const e = run.execution;
    try {
      const updated = await this.storage.updateExecution(e.id, this.instanceId, {
        attempts: Math.max(0, attempts - 1),
        ...(settled ? { leaseExpiresAt: this.clock.now() } : {}),
      });
      this.storageOk();
      if (updated) {
        this.logger.info(
          { executionId: e.id, scheduleId: e.scheduleId, handlerSettled: settled },
          `${e.scheduleId}: still running at the stop deadline; handed over (${settled ? "lease expired now" : "its lease lapses"})`,
        );
        this.emitSafe("fire:handed-over", { execution: updated, reason: "shutdown" });
      }
    } catch (error) {
      this.storageFailed(error, `handing over ${e.id}`);
    }
  }

  /**
   * Hands over a run waiting between attempts (shutdown): its lease expires at once and the attempt
   * it was about to start is given back, so whoever takes it over runs that attempt.
   */
  private async handOver(run: Run): Promise<void> {
    if (run.handedOver) return;
    run.handedOver = true;
    const e = run.execution;
    try {
      const updated = await this.storage.updateExecution(e.id, this.instanceId, {
        attempts: Math.max(0, e.attempts - 1),
        leaseExpiresAt: this.clock.now(),
      });
      this.storageOk();
      if (updated) this.emitSafe("fire:handed-over", { execution: updated, reason: "shutdown" });
    } catch (error) {
      this.storageFailed(error, `handing over ${e.id}`);
    }
    run.cancel("handed_over");
  }

  /** Pauses this instance (not persisted): no fires until `resume()`; missed fires follow each misfire policy. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.lifecycle === "running") this.lifecycle = "paused";
    this.disarmAll();
    this.emitSafe("scheduler:paused", { at: this.clock.now() });
  }

  /** Resumes after `pause()`. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.lifecycle === "paused") this.lifecycle = "running";
    this.armAll(true);
    this.emitSafe("scheduler:resumed", { at: this.clock.now() });
  }

  /**
   * Emergency stop of every fire on every instance sharing the storage, persisted (a restart stays
   * paused). With `abortRunning`, handlers in progress are aborted too (recorded as cancelled).
   */
  async pauseAll(
    options: ActorOptions & { reason?: string; abortRunning?: boolean; cancelOpenOrders?: boolean } = {},
  ): Promise<ControlRecord> {
    const o = parseInput(
      z.strictObject({
        actor: z.string().trim().min(1).max(200).default("system"),
        reason: z.string().max(1000).optional(),
        abortRunning: z.boolean().default(false),
        cancelOpenOrders: z.boolean().default(false),
      }),
      options,
      "scheduler",
    );
    const control: ControlRecord = {
      pausedAll: true,
      pausedAt: this.clock.now(),
      pausedBy: o.actor,
      reason: o.reason ?? null,
      revision: await this.nextControlRevision(),
    };
    await this.storage.setControl(control);
    this.trust.controlProblem = null;
    await this.audit(o.actor, "scheduler.pause_all", "scheduler", null, {
      reason: o.reason ?? null,
      abortRunning: o.abortRunning,
    });
    this.applyControl(control, o.actor);
    if (o.abortRunning) for (const run of [...this.runs]) run.cancel("paused_all");
    let cancelled: { cancelled: number; failed: { id: string; error: string }[] } | null = null;
    if (o.cancelOpenOrders) {
      cancelled = await this.trading.desk.cancelOpenOrders();
      await this.audit(o.actor, "orders.cancel_all", "broker", null, cancelled as unknown as JsonValue);
    }
    this.notify({
      kind: "paused_all",
      severity: "critical",
      subject: `Emergency pause-all by ${o.actor}`,
      body: `Every schedule is paused${o.reason ? `: ${o.reason}` : ""}.${cancelled ? ` ${cancelled.cancelled} open order(s) cancelled${cancelled.failed.length ? `, ${cancelled.failed.length} failed` : ""}.` : ""}`,
      data: { actor: o.actor, reason: o.reason ?? null, cancelledOrders: cancelled?.cancelled ?? null },
    });
    return control;
  }

  /**
   * Lifts the emergency pause on every instance. Missed fires follow each schedule's misfire
   * policy. A pause the scheduler imposed because the control record could not be read is lifted
   * only with a named `actor` (and replaces the unreadable record).
   */
  async resumeAll(options?: ActorOptions): Promise<ControlRecord> {
    const actor = actorOf(options);
    if (this.trust.controlProblem !== null && options?.actor === undefined) {
      throw new ValidationError(
        [
          {
            field: "actor",
            code: "VALIDATION",
            message: `the control record could not be read (${this.trust.controlProblem}): name the actor who lifts the fail-safe pause`,
          },
        ],
        { component: "scheduler" },
      );
    }
    const control: ControlRecord = {
      pausedAll: false,
      pausedAt: null,
      pausedBy: null,
      reason: null,
      revision: await this.nextControlRevision(),
    };
    await this.storage.setControl(control);
    this.trust.controlProblem = null;
    await this.audit(actor, "scheduler.resume_all", "scheduler", null, null);
    this.applyControl(control, actor);
    this.notify({
      kind: "resumed_all",
      severity: "info",
      subject: `Pause-all lifted by ${actor}`,
      body: "Schedules fire again; what was missed follows each schedule's misfire policy.",
      data: { actor },
    });
    return control;
  }

  /** Applies a control record read back, if it differs from the one in force (by revision or switch). */
  private controlChanged(control: ControlRecord): void {
    if (control.revision !== this.control.revision || control.pausedAll !== this.control.pausedAll) {
      this.applyControl(control, null);
    }
  }

  private applyControl(control: ControlRecord, actor: string | null): void {
    const was = this.control.pausedAll;
    this.control = control;
    if (control.pausedAll && !was) {
      this.disarmAll();
      this.emitSafe("scheduler:paused-all", {
        at: control.pausedAt ?? this.clock.now(),
        actor: actor ?? control.pausedBy ?? "unknown",
        reason: control.reason,
      });
    } else if (!control.pausedAll && was) {
      this.armAll(true);
      this.emitSafe("scheduler:resumed-all", { at: this.clock.now(), actor: actor ?? "unknown" });
    }
  }

  /** Whether the emergency pause-all is in force (as last seen by this instance). */
  get pausedAll(): boolean {
    return this.control.pausedAll;
  }

  // ------------------------------------------------------------------------------------------
  // maintenance: leases, takeovers, sync

  private scheduleMaintenance(): void {
    const every = Math.max(
      10,
      Math.min(Math.floor(this.leaseMs / 3), this.storage.watch ? Infinity : this.syncIntervalMs),
    );
    // Maintenance goes on while stopping: the leases of the runs stop() waits for must stay
    // renewed, or another instance would take them over and run them a second time.
    const alive = () =>
      this.lifecycle === "running" || this.lifecycle === "paused" || this.lifecycle === "stopping";
    this.maintenanceTimer = this.clock.setTimeout(() => {
      this.maintenanceTimer = null;
      if (!alive()) return;
      this.background(
        this.maintain().finally(() => {
          if (alive() && this.maintenanceTimer === null) this.scheduleMaintenance();
        }),
        "maintenance",
      );
    }, every);
  }

  private async maintain(): Promise<void> {
    const now = this.clock.now();
    this.heartbeatAt = now;
    if (this.timer === null && this.canFire()) this.scheduleTimer();
    if (this.lifecycle !== "stopping") this.retention.tick();
    // A run writing its outcome is about to let go of its lease: renewing it would only race that write.
    const mine = [...this.runs].filter((r) => r.phase !== "done" && r.phase !== "finishing" && !r.handedOver);
    if (mine.length > 0) {
      try {
        const held = new Set(
          await this.storage.renewLeases(
            this.instanceId,
            mine.map((r) => r.execution.id),
            now + this.leaseMs,
          ),
        );
        this.storageOk();
        for (const r of mine) if (!held.has(r.execution.id)) r.cancel("lease_lost");
      } catch (error) {
        this.storageFailed(error, "renewing leases");
      }
    }
    if (
      !this.storage.watch &&
      this.lifecycle !== "stopping" &&
      now - this.lastSyncAt >= this.syncIntervalMs
    ) {
      this.lastSyncAt = now;
      await this.syncFromStorage();
    }
    if (this.canFire()) {
      await this.takeOver(now);
      // Off the maintenance turn: a broker connect can take its own timeout (TWS's is seconds), and
      // the next turn renews the leases of running handlers; waiting for it would let them lapse.
      if (this.tradingMaintenance === null) {
        const task = this.trading.maintain().finally(() => {
          this.tradingMaintenance = null;
        });
        this.tradingMaintenance = task;
        this.background(task, "trading maintenance");
      }
    }
  }

  private async takeOver(now: number): Promise<void> {
    let taken: ExecutionRecord[];
    try {
      taken = await this.storage.takeOverExpired(
        this.instanceId,
        now,
        now + this.leaseMs,
        100,
        this.jobNames(),
      );
      this.storageOk();
    } catch (error) {
      this.storageFailed(error, "taking over expired fires");
      return;
    }
    for (const execution of taken) {
      const st = this.states.get(execution.scheduleId);
      const job = this.jobs.get(execution.job);
      const run = new Run(execution, "handler");
      this.runs.add(run);
      this.counters.takenOver++;
      this.emitSafe("fire:taken-over", { execution });
      if (!st || !job) {
        const record = st?.record;
        await this.storage
          .updateExecution(execution.id, this.instanceId, {
            status: "cancelled",
            reason: "schedule_removed",
            endedAt: now,
            leaseExpiresAt: null,
          })
          .catch((error: unknown) => this.storageFailed(error, `closing orphaned fire ${execution.id}`));
        run.settle(null);
        this.runs.delete(run);
        if (record) this.onRunSettled(run, record);
        continue;
      }
      st.running++;
      // Attempt 1: a fire handed over unstarted (it never ran), which starts like a new fire, under
      // the overlap policy. A later attempt continues a run that had started.
      this.background(
        this.startClaimed(st, run, execution.attempts === 1),
        `taken-over run of ${execution.scheduleId}`,
      );
    }
  }

  private async syncFromStorage(): Promise<void> {
    try {
      this.controlChanged(await this.readControl());
      const records = await this.storage.listSchedules();
      this.storageOk();
      const seen = new Set<string>();
      for (const record of records) {
        seen.add(record.id);
        const st = this.states.get(record.id);
        if (!st || st.record.revision !== record.revision) this.adoptChanged(record);
      }
      for (const id of [...this.states.keys()]) if (!seen.has(id)) this.drop(id);
      this.trust.retain(seen);
    } catch (error) {
      this.storageFailed(error, "syncing from storage");
    }
  }

  /**
   * True when a stored record passes the same checks as input (the storage's own checks may be
   * structural only, or missing in a storage of your own). A refused one is reported once, never
   * armed, and named by health until it is fixed.
   */
  private trusted(record: ScheduleRecord): boolean {
    const problem = storedScheduleProblem(record);
    if (problem === null) return true;
    const id = problem.id ?? String((record as { id?: unknown }).id);
    this.refuse(id, problem.reason);
    return false;
  }

  private refuse(id: string, reason: string): void {
    this.drop(id);
    if (this.trust.refuse(id, reason)) {
      this.reportError(
        new TradecronError("STORAGE_CORRUPT", `stored schedule '${id}' is not armed: ${reason}`, {
          details: { scheduleId: id, reason },
        }),
        `checking stored schedule ${id}`,
      );
    }
  }

  /** The schedule's trigger, or null (reported, and named by health) when it does not compile. */
  private compiled(record: ScheduleRecord): Trigger | null {
    try {
      const trigger = compileTrigger(record.trigger, record.id);
      this.trust.clear(record.id);
      return trigger;
    } catch (error) {
      this.trust.cannotCompile(record.id, toError(error).message);
      this.reportError(error, `compiling the trigger of stored schedule ${record.id}`);
      return null;
    }
  }

  /**
   * Reads the control record, failing safe: one that cannot be read (the storage says so, or it
   * fails the checks) comes up as an emergency pause-all that only an actor's resumeAll() lifts.
   */
  private async readControl(): Promise<ControlRecord> {
    let control: ControlRecord;
    try {
      control = await this.storage.getControl();
    } catch (error) {
      if (!isCorruptRecord(error)) throw error;
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      return this.failSafe(typeof reason === "string" ? reason : error.message);
    }
    const problem = storedControlProblem(control);
    if (problem !== null) return this.failSafe(problem);
    this.trust.controlProblem = null;
    return control;
  }

  private failSafe(problem: string): ControlRecord {
    const news = this.trust.controlProblem !== problem;
    this.trust.controlProblem = problem;
    if (news) {
      this.reportError(
        new TradecronError("STORAGE_CORRUPT", `the control record cannot be read: ${problem}`, {
          details: { reason: problem },
        }),
        "reading the control record (every schedule stays paused)",
      );
      this.notify({
        kind: "paused_all",
        severity: "critical",
        subject: "Control record unreadable: every schedule is paused",
        body: `The stored control record cannot be read (${problem}). tradecron fails safe: nothing fires until an actor calls resumeAll().`,
        data: { actor: FAIL_SAFE_ACTOR, reason: problem, cancelledOrders: null },
      });
    }
    return failSafeControl(this.control, problem, this.clock.now());
  }

  /** The revision a new control record takes: past both the stored one (if readable) and the last seen. */
  private async nextControlRevision(): Promise<number> {
    let stored = -1;
    try {
      stored = (await this.storage.getControl()).revision;
    } catch (error) {
      if (!isCorruptRecord(error)) throw error;
    }
    const known = Number.isInteger(stored) && stored >= 0 ? stored : -1;
    return Math.max(known, this.control.revision) + 1;
  }

  private adoptChanged(record: ScheduleRecord): void {
    if (!this.trusted(record)) return;
    const trigger = this.compiled(record);
    const known = this.states.get(record.id);
    if (known && known.record.revision >= record.revision) return;
    if ((this.ownWrites.get(record.id) ?? 0) >= record.revision) return;
    this.adopt(record, trigger);
  }

  private onStorageChange(change: StorageChange): void {
    if (this.lifecycle !== "running" && this.lifecycle !== "paused") return;
    if (change.type === "control") {
      this.background(
        this.readControl().then((control) => this.controlChanged(control)),
        "applying a control change",
      );
    } else if (change.type === "schedule") {
      this.background(
        this.storage.getSchedule(change.id).then(
          (record) => {
            if (record) this.adoptChanged(record);
            else {
              this.drop(change.id);
              this.trust.clear(change.id);
            }
          },
          (error: unknown) => {
            if (!isCorruptRecord(error)) throw error;
            const reason = (error.details as { reason?: unknown } | undefined)?.reason;
            this.refuse(change.id, typeof reason === "string" ? reason : error.message);
          },
        ),
        `applying a change of schedule ${change.id}`,
      );
    }
  }

  // ------------------------------------------------------------------------------------------
  // manual fires, backfill, preview

  private async stateFor(id: string): Promise<ScheduleState> {
    const known = this.states.get(id);
    if (known) return known;
    const record = await this.getSchedule(id);
    this.adoptChanged(record);
    return this.states.get(id) as ScheduleState;
  }

  private assertCanRunManually(job: string): void {
    if (this.lifecycle !== "running" && this.lifecycle !== "paused") {
      throw new StateError("NOT_RUNNING", `scheduler is ${this.lifecycle}; start() it first`);
    }
    if (this.control.pausedAll) {
      throw new StateError("PAUSED", "emergency pause-all is in force; resumeAll() first");
    }
    if (!this.jobs.has(job)) {
      throw new ValidationError(
        [{ field: "job", code: "UNKNOWN_JOB", message: `job '${job}' is not registered here` }],
        {
          component: "scheduler",
        },
      );
    }
  }

  /**
   * Runs a schedule now, recorded as a `manual` fire with the actor, under the schedule's overlap
   * policy. With `wait` (default) resolves with the final record; otherwise with the claimed one.
   */
  async trigger(id: string, options: ActorOptions & { wait?: boolean } = {}): Promise<ExecutionRecord> {
    const o = parseInput(
      z.strictObject({
        actor: z.string().trim().min(1).max(200).default("system"),
        wait: z.boolean().default(true),
      }),
      options,
      "scheduler",
    );
    const st = await this.stateFor(id);
    this.assertCanRunManually(st.record.job);
    let at = this.clock.now();
    for (let tries = 0; tries < 100; tries++, at++) {
      const outcome = await this.fire(st, at, "manual", o.actor);
      if (!outcome.claimed) {
        if (this.lifecycle === "stopping" || this.lifecycle === "stopped") {
          throw new StateError(
            "NOT_RUNNING",
            `scheduler is ${this.lifecycle}; the manual fire of '${id}' was not run`,
          );
        }
        if (outcome.execution === null) {
          throw new TradecronError("STORAGE", `could not claim a manual fire of '${id}'`, { field: "id" });
        }
        continue;
      }
      await this.audit(o.actor, "schedule.trigger", "schedule", id, {
        executionId: outcome.execution?.id ?? null,
      });
      if (!o.wait) return outcome.execution as ExecutionRecord;
      return (await outcome.done) ?? (outcome.execution as ExecutionRecord);
    }
    throw new ConflictError(
      "FIRE_ALREADY_CLAIMED",
      `could not find a free instant for a manual fire of '${id}'`,
    );
  }

  /**
   * Runs the schedule's fires in [from, to] now, as if they had come, one after another. Fires
   * already claimed (they ran, or another instance holds them) are left alone, so a backfill can
   * be repeated safely. `to` must not be in the future.
   */
  async backfill(
    id: string,
    options: ActorOptions & { from: InstantInput; to: InstantInput; maxFires?: number },
  ): Promise<BackfillResult> {
    const o = parseInput(
      z.strictObject({
        actor: z.string().trim().min(1).max(200).default("system"),
        from: instantSchema,
        to: instantSchema,
        maxFires: z.number().int().min(1).max(100_000).default(1000),
      }),
      options,
      "scheduler",
    );
    if (o.to < o.from) {
      throw new ValidationError(
        [{ field: "to", code: "VALIDATION", message: "'to' must not be before 'from'" }],
        {
          component: "scheduler",
        },
      );
    }
    if (o.to > this.clock.now()) {
      throw new ValidationError(
        [{ field: "to", code: "VALIDATION", message: "a backfill window must lie in the past" }],
        {
          component: "scheduler",
        },
      );
    }
    const st = await this.stateFor(id);
    this.assertCanRunManually(st.record.job);
    const trigger = st.trigger ?? compileTrigger(st.record.trigger, st.record.id);
    const fires: number[] = [];
    for (let t = trigger.next(o.from - 1); t !== null && t <= o.to; t = trigger.next(t)) {
      fires.push(t);
      if (fires.length > o.maxFires) {
        throw new ValidationError(
          [
            {
              field: "maxFires",
              code: "VALIDATION",
              message: `the window holds more than ${o.maxFires} fires`,
            },
          ],
          { component: "scheduler" },
        );
      }
    }
    await this.audit(o.actor, "schedule.backfill", "schedule", id, {
      from: o.from,
      to: o.to,
      fires: fires.length,
    });
    const result: BackfillResult = { fires: fires.length, ran: 0, alreadyClaimed: 0, executions: [] };
    for (const at of fires) {
      const outcome = await this.fire(st, at, "backfill", o.actor);
      if (this.lifecycle === "stopping" || this.lifecycle === "stopped") {
        throw new StateError(
          "NOT_RUNNING",
          `scheduler is ${this.lifecycle}; the backfill of '${id}' stopped after ${result.ran} fire(s)`,
          {
            details: { ran: result.ran, fires: result.fires },
          },
        );
      }
      if (!outcome.claimed) {
        result.alreadyClaimed++;
        continue;
      }
      result.ran++;
      const final = await outcome.done;
      if (final) result.executions.push(final);
    }
    return result;
  }

  /**
   * The next `count` fires of a saved schedule (by id) or of a schedule input not yet saved, each
   * with the reason it would be skipped.
   */
  async preview(
    target: string | ScheduleInput,
    options: { count?: number; from?: InstantInput } = {},
  ): Promise<PreviewFire[]> {
    const o = parseInput(
      z.strictObject({
        count: z.number().int().min(1).max(1000).default(10),
        from: instantSchema.optional(),
      }),
      options,
      "scheduler",
    );
    const record =
      typeof target === "string"
        ? await this.getSchedule(target)
        : buildScheduleRecord(target, this.clock.now());
    const trigger =
      typeof target === "string" ? compileTrigger(record.trigger, record.id) : this.checkFires(record);
    const zone =
      record.trigger.type === "cron"
        ? record.trigger.timezone
        : record.trigger.type === "market"
          ? getCalendar(record.trigger.calendar).timezone
          : "UTC";
    const reason: SkipReason | null = !record.enabled
      ? "disabled"
      : record.paused
        ? "paused"
        : this.control.pausedAll
          ? "paused_all"
          : null;
    // Fires beyond the Date range cannot be formatted (or reached): the preview ends before them.
    const fires = nextFires(trigger, o.from ?? this.clock.now(), o.count).filter((at) => at <= MAX_INSTANT);
    return fires.map((at) => {
      const marketSkip = this.marketSkip(record, at)?.reason ?? null;
      return {
        at,
        iso: new Date(at).toISOString(),
        local: formatLocal(toLocal(zone, at)),
        skip: reason ?? marketSkip,
        marketSkip,
      };
    });
  }

  // ------------------------------------------------------------------------------------------
  // history, status, health

  /** Executions, newest first, filtered by schedule, status, kind and time range, with a cursor. */
  async listExecutions(input: ExecutionListInput = {}): Promise<Page<ExecutionRecord>> {
    const q = parseInput(executionListSchema, input, "scheduler");
    return this.storage.listExecutions(definedOnly(q));
  }

  /** One execution; NotFoundError if unknown. */
  async getExecution(id: string): Promise<ExecutionRecord> {
    id = idOf(id);
    const e = await this.storage.getExecution(id);
    if (!e) throw new NotFoundError("NOT_FOUND", `execution '${id}' not found`, { field: "id" });
    return e;
  }

  /**
   * The schedule's committed state (what its handlers read as `ctx.state`): the value, its
   * revision (+1 per commit), the execution that committed it and when; null before the first
   * commit or once the schedule was removed. StorageError `STORAGE_CORRUPT` if the stored state
   * fails its checks.
   */
  async getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    scheduleId = idOf(scheduleId, "scheduleId");
    return this.storage.getScheduleState(scheduleId);
  }

  /** Approvals, newest first, filtered by status, risk level and schedule, with a cursor. */
  async listApprovals(input: ApprovalListInput = {}): Promise<Page<ApprovalRecord>> {
    const q = parseInput(approvalListSchema, input, "scheduler");
    return this.storage.listApprovals(definedOnly(q));
  }

  /** One approval; NotFoundError if unknown. */
  async getApproval(id: string): Promise<ApprovalRecord> {
    id = idOf(id);
    const a = await this.storage.getApproval(id);
    if (!a) throw new NotFoundError("NOT_FOUND", `approval '${id}' not found`, { field: "id" });
    return a;
  }

  /** Number of approvals waiting for a decision. */
  pendingApprovalCount(): Promise<number> {
    return this.storage.countApprovals("pending");
  }

  /**
   * Approves one or many pending approvals as `actor`. Each is re-checked by the risk guard (limits
   * may have changed since it was proposed) and, if it passes, submitted to the broker. Returns one
   * result per id, in order; an approval that is not pending any more is reported, not thrown. An
   * approval whose schedule was removed is rejected (code `SCHEDULE_NOT_FOUND`) unless
   * `allowRemovedSchedule: true`.
   */
  async approve(
    ids: string | string[],
    options: ActorOptions & { reason?: string; allowRemovedSchedule?: boolean },
  ): Promise<DecisionResult[]> {
    const o = parseInput(approveSchema, { ...options, ids }, "scheduler");
    return this.trading.approvals.approve(o.ids, o.actor, o.reason ?? null, {
      allowRemovedSchedule: o.allowRemovedSchedule,
    });
  }

  /** Rejects one or many pending approvals as `actor`, with an optional reason. */
  async reject(
    ids: string | string[],
    options: ActorOptions & { reason?: string },
  ): Promise<DecisionResult[]> {
    const o = parseInput(decisionSchema, { ...options, ids }, "scheduler");
    return this.trading.approvals.reject(o.ids, o.actor, o.reason ?? null);
  }

  /**
   * An approval group: its members in proposal order and the status derived from theirs.
   * NotFoundError if no approval belongs to `groupId`.
   */
  async getApprovalGroup(groupId: string): Promise<ApprovalGroup> {
    return this.trading.groups.get(idOf(groupId, "groupId"));
  }

  /**
   * Approves every member of a group as one unit (all or none) as `actor`, then submits their
   * orders in proposal order, each re-checked by the risk guard; results per member in order. The
   * decision is one atomic write: ConflictError `APPROVAL_GROUP_NOT_PENDING` when any member is
   * not pending (decided, expired) or the group has expired, and then nothing changes. A member
   * refused after approval (risk re-check, broker) is `failed` and reported in its result; the
   * others still go. A group whose schedule was removed is rejected unless `allowRemovedSchedule`.
   */
  async approveGroup(
    groupId: string,
    options: ActorOptions & { reason?: string; allowRemovedSchedule?: boolean },
  ): Promise<GroupDecision> {
    const o = parseInput(groupDecisionSchema, { ...options, groupId }, "scheduler");
    return this.trading.groups.approve(o.groupId, o.actor, o.reason ?? null, {
      allowRemovedSchedule: o.allowRemovedSchedule,
    });
  }

  /** Rejects every member of a group as one unit as `actor`; the same errors as {@link Scheduler.approveGroup}. */
  async rejectGroup(groupId: string, options: ActorOptions & { reason?: string }): Promise<GroupDecision> {
    const o = parseInput(
      groupDecisionSchema.omit({ allowRemovedSchedule: true }),
      { ...options, groupId },
      "scheduler",
    );
    return this.trading.groups.reject(o.groupId, o.actor, o.reason ?? null);
  }

  /** Orders placed through this scheduler's storage, newest first. */
  async listOrders(input: OrderListInput = {}): Promise<Page<OrderRecord>> {
    const q = parseInput(orderListSchema, input, "scheduler");
    return this.storage.listOrders(definedOnly(q));
  }

  /** One order by its client order id; NotFoundError if unknown. */
  async getOrder(clientOrderId: string): Promise<OrderRecord> {
    clientOrderId = idOf(clientOrderId, "clientOrderId");
    const o = await this.storage.getOrder(clientOrderId);
    if (!o)
      throw new NotFoundError("NOT_FOUND", `order '${clientOrderId}' not found`, { field: "clientOrderId" });
    return o;
  }

  /** The audit log, newest first: who did what, when and why. */
  async listAudit(input: AuditListInput = {}): Promise<Page<AuditEntry>> {
    const q = parseInput(auditListSchema, input, "scheduler");
    return this.storage.listAudit(definedOnly(q));
  }

  /** Cancels every open order at the broker, recorded in the audit log. */
  async cancelOpenOrders(
    options?: ActorOptions,
  ): Promise<{ cancelled: number; failed: { id: string; error: string }[] }> {
    const actor = actorOf(options);
    const result = await this.trading.desk.cancelOpenOrders();
    await this.audit(actor, "orders.cancel_all", "broker", null, result as unknown as JsonValue);
    return result;
  }

  /** The configured broker, or null. */
  get broker(): Broker | null {
    return this.trading.desk.broker;
  }

  private scheduleStatuses(): ScheduleStatus[] {
    return [...this.states.values()]
      .map((st) => ({
        id: st.record.id,
        name: st.record.name,
        job: st.record.job,
        enabled: st.record.enabled,
        paused: st.record.paused,
        handled: this.jobs.has(st.record.job),
        nextFireAt: st.index >= 0 ? st.at : null,
        lastStartAt: st.lastStartAt,
        lastEndAt: st.lastEndAt,
        lastStatus: st.lastStatus,
        lastSuccessAt: st.lastSuccessAt,
        running: st.running,
        counters: { ...(this.perSchedule.get(st.record.id) ?? newScheduleCounters()) },
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Why schedule `s` has no next fire on this instance, or null when it has one. */
  private whyNoFire(s: ScheduleStatus): string | null {
    if (s.nextFireAt !== null) return null;
    if (!s.enabled) return "disabled";
    if (s.paused) return "paused";
    if (!s.handled) return `job '${s.job}' is not registered here`;
    if (this.control.pausedAll) return "emergency pause-all is in force";
    if (this.paused) return "this instance is paused";
    return this.trust.problemOf(s.id) ?? "no fire in the future";
  }

  /** A snapshot of state, uptime, heartbeat, per-schedule status and counters. */
  async status(): Promise<SchedulerStatus> {
    let approvalsPending = 0;
    try {
      approvalsPending = await this.storage.countApprovals("pending");
    } catch (error) {
      this.storageFailed(error, "counting approvals");
    }
    const now = this.clock.now();
    return {
      state: this.lifecycle,
      instanceId: this.instanceId,
      storage: this.storage.name,
      pausedAll: this.control.pausedAll,
      pausedAllBy: this.control.pausedBy,
      startedAt: this.startedAt,
      uptimeMs: this.startedAt === null || this.lifecycle === "stopped" ? 0 : now - this.startedAt,
      heartbeatAt: this.heartbeatAt,
      counters: { ...this.counters },
      approvalsPending,
      schedules: this.scheduleStatuses(),
    };
  }

  /** healthy / degraded / unhealthy, with reasons. Cheap: no storage call. */
  health(): Health {
    const broker = this.trading.desk.broker;
    let issues: ReturnType<NonNullable<Storage["issues"]>> = [];
    try {
      issues = this.storage.issues?.() ?? [];
    } catch (error) {
      this.reportError(error, "asking the storage for its issues");
    }
    return assessHealth({
      state: this.lifecycle,
      pausedAll: this.control.pausedAll,
      heartbeatAt: this.heartbeatAt,
      now: this.clock.now(),
      staleAfterMs: 2 * this.maxWaitMs + Math.floor(this.leaseMs / 3) + 5000,
      storageFailures: this.storageFailures,
      schedules: this.scheduleStatuses(),
      broker: broker ? { name: broker.name, connected: broker.isConnected() } : null,
      untrusted: this.trust.reasons(issues),
    });
  }

  /** Number of runs in progress on this instance. */
  get runningCount(): number {
    return this.runs.size;
  }
}
