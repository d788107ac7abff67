/**
 * Retention: the scheduler role that keeps the stored history from growing without bound. It
 * prunes in the background, off the fire path: one pass at a time, each a series of small batches
 * (at most `batchSize` records per storage call) with a yield to the event loop between them, and
 * it steps aside when a fire is about to be due. Several instances may prune one storage at once:
 * every prune deletes only what the storage contract allows (final records, nothing that
 * lastFireAt or the schedule summaries are made of), so correctness never depends on it.
 *
 * The policy (see docs/retention.md):
 * - executions: a final execution is deleted once it is older than `maxAge` (by `scheduledAt`)
 *   and not among the newest `keepLast` of its schedule; a schedule may override both.
 * - approvals, orders, audit: final records older than their `maxAge`, kept longer by default.
 */

import { z } from "zod";
import type { SchedulerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { ScheduleRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { type Clock, sleep } from "../time/clock.js";
import { parseInput, positiveDurationSchema } from "../validation.js";

const DAY = 86_400_000;

/** A limit in a retention policy: a duration (ms or '30d'), or null for none. */
type Age = number | string | null;

/** What `new Scheduler({ retention })` accepts; every field is optional (see {@link DEFAULT_RETENTION}). */
export interface RetentionOptions {
  /** Final executions: older than `maxAge` and not among the newest `keepLast` of their schedule. */
  executions?: { maxAge?: Age; keepLast?: number | null };
  /** Final approvals (`rejected`, `expired`, `submitted`, `failed`) older than `maxAge`. */
  approvals?: { maxAge?: Age };
  /** Final orders (filled, canceled, expired, rejected, replaced) last updated before `maxAge` ago. */
  orders?: { maxAge?: Age };
  /** Audit entries older than `maxAge`, oldest first. */
  audit?: { maxAge?: Age };
  /** Time between passes (ms or '1h'). The first pass starts one minute after `start()` (or sooner). */
  interval?: number | string;
  /** Records deleted per storage call (1-10,000). Smaller batches hold locks and the event loop for less. */
  batchSize?: number;
}

/** The policy in force, durations in ms; null: that limit is off. */
export interface RetentionPolicy {
  executions: { maxAgeMs: number | null; keepLast: number | null };
  approvals: { maxAgeMs: number | null };
  orders: { maxAgeMs: number | null };
  audit: { maxAgeMs: number | null };
  intervalMs: number;
  batchSize: number;
}

/** Seven years of days: how long the trading record (approvals, orders, audit) is kept by default. */
const TRADING_RECORD_DAYS = 7 * 365 + 2;

/**
 * The defaults: executions 30 days but at least the last 100 of each schedule; final approvals,
 * final orders and the audit log seven years (they are the trading record, kept as long as a
 * broker-dealer keeps its own, and small next to run history); a pass every hour in
 * batches of 500. On by default: a durable storage must not grow without bound unless asked to.
 */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({
  executions: Object.freeze({ maxAgeMs: 30 * DAY, keepLast: 100 }),
  approvals: Object.freeze({ maxAgeMs: TRADING_RECORD_DAYS * DAY }),
  orders: Object.freeze({ maxAgeMs: TRADING_RECORD_DAYS * DAY }),
  audit: Object.freeze({ maxAgeMs: TRADING_RECORD_DAYS * DAY }),
  intervalMs: 3_600_000,
  batchSize: 500,
});

const age = positiveDurationSchema.nullable().optional();
const count = z.number().int().min(0).max(1_000_000_000).nullable().optional();

/** zod schema of the `retention` option when it is a policy (`false` switches retention off). */
export const retentionOptionsSchema = z.strictObject({
  executions: z.strictObject({ maxAge: age, keepLast: count }).optional(),
  approvals: z.strictObject({ maxAge: age }).optional(),
  orders: z.strictObject({ maxAge: age }).optional(),
  audit: z.strictObject({ maxAge: age }).optional(),
  interval: positiveDurationSchema.optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
});

/** The policy `options` stand for (defaults filled in); null for `false`. Throws a ValidationError naming the field. */
export function resolveRetention(options: RetentionOptions | false | undefined): RetentionPolicy | null {
  if (options === false) return null;
  const o = parseInput(retentionOptionsSchema, options ?? {}, "scheduler", "options.retention");
  const d = DEFAULT_RETENTION;
  const pick = (v: number | null | undefined, fallback: number | null) => (v === undefined ? fallback : v);
  return {
    executions: {
      maxAgeMs: pick(o.executions?.maxAge, d.executions.maxAgeMs),
      keepLast: pick(o.executions?.keepLast, d.executions.keepLast),
    },
    approvals: { maxAgeMs: pick(o.approvals?.maxAge, d.approvals.maxAgeMs) },
    orders: { maxAgeMs: pick(o.orders?.maxAge, d.orders.maxAgeMs) },
    audit: { maxAgeMs: pick(o.audit?.maxAge, d.audit.maxAgeMs) },
    intervalMs: o.interval ?? d.intervalMs,
    batchSize: o.batchSize ?? d.batchSize,
  };
}

/** What one pass deleted. */
export type RetentionCounts = Omit<SchedulerEvents["retention:pruned"], "at" | "durationMs">;

/** What the role needs from its host (the scheduler). */
export interface RetentionDeps {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** The schedules known now (their `retention` overrides the policy). */
  schedules: () => Iterable<ScheduleRecord>;
  /** When the next fire is due (null: none armed), so a batch never starts just before it. */
  nextFireAt: () => number | null;
  emit: (payload: SchedulerEvents["retention:pruned"]) => void;
  reportError: (error: unknown, context: string) => void;
}

/** Schedule ids read from the storage per call, when looking for the history of removed schedules. */
const ID_PAGE = 500;
/** A batch does not start when a fire is due sooner than this (ms): the fire goes first. */
const FIRE_GUARD_MS = 20;
/** The longest the first pass waits after start. */
const FIRST_PASS_MS = 60_000;

/** True if `storage` implements the retention part of the contract. */
function canPrune(storage: Storage): boolean {
  return (
    typeof storage.pruneExecutions === "function" &&
    typeof storage.executionScheduleIds === "function" &&
    typeof storage.pruneApprovals === "function" &&
    typeof storage.pruneOrders === "function" &&
    typeof storage.pruneAudit === "function"
  );
}

/** A prune rule for one schedule's executions, from the policy and the schedule's override. */
function executionRule(policy: RetentionPolicy, schedule: ScheduleRecord | undefined, now: number) {
  const own = schedule?.retention ?? null;
  const maxAgeMs = own?.maxAgeMs !== undefined ? own.maxAgeMs : policy.executions.maxAgeMs;
  const keepLast = own?.keepLast !== undefined ? own.keepLast : policy.executions.keepLast;
  // Neither limit: keep everything (a count of 0 with no age would delete every final run).
  if (maxAgeMs === null && (keepLast === null || keepLast === 0)) return null;
  return {
    ...(maxAgeMs !== null && { before: now - maxAgeMs }),
    ...(keepLast !== null && keepLast > 0 && { keepLast }),
  };
}

/** Applies a retention policy to a storage in the background (see the module comment). */
export class Retention {
  private nextPassAt: number | null = null;
  private pass: Promise<RetentionCounts | null> | null = null;
  private abort: AbortController | null = null;
  private warned = false;

  constructor(
    private readonly deps: RetentionDeps,
    /** The policy; null: retention is off. */
    readonly policy: RetentionPolicy | null,
  ) {}

  /**
   * Starts the background passes: the first one minute after start (or sooner), then one every
   * `interval`. They are driven by {@link Retention.tick} (the scheduler's maintenance tick), so
   * retention sets no timer of its own. Idempotent.
   */
  start(): void {
    if (this.policy === null || this.abort !== null) return;
    this.abort = new AbortController();
    this.nextPassAt = this.deps.clock.now() + Math.min(this.policy.intervalMs, FIRST_PASS_MS);
  }

  /** Starts a pass in the background when one is due; returns at once. */
  tick(): void {
    const signal = this.abort?.signal;
    if (!signal || signal.aborted || this.pass || this.nextPassAt === null || this.policy === null) return;
    const now = this.deps.clock.now();
    // The wall clock went back by more than an interval: count from now instead.
    if (this.nextPassAt - now > this.policy.intervalMs) this.nextPassAt = now + this.policy.intervalMs;
    if (now < this.nextPassAt) return;
    this.nextPassAt = now + this.policy.intervalMs;
    this.runOnce(signal).catch((error) => this.deps.reportError(error, "retention"));
  }

  /**
   * Stops starting passes and aborts the one in progress between two batches. The abort is
   * immediate; the promise settles when the batch in progress ended (never the whole pass).
   */
  stop(): Promise<void> {
    this.abort?.abort(new Error("retention stopped"));
    this.abort = null;
    this.nextPassAt = null;
    return this.pass
      ? this.pass.then(
          () => {},
          () => {},
        )
      : Promise.resolve();
  }

  /**
   * Runs one pass now (a one-off prune) and resolves with what it deleted; joins the pass in
   * progress if there is one. Null when retention is off or the storage cannot prune.
   */
  runOnce(signal?: AbortSignal): Promise<RetentionCounts | null> {
    if (this.pass) return this.pass;
    const pass = this.runPass(signal ?? this.abort?.signal).finally(() => {
      if (this.pass === pass) this.pass = null;
    });
    this.pass = pass;
    return pass;
  }

  private async runPass(signal: AbortSignal | undefined): Promise<RetentionCounts | null> {
    const { storage, clock, logger } = this.deps;
    const policy = this.policy;
    if (policy === null) return null;
    if (!canPrune(storage)) {
      if (!this.warned)
        logger.warn({ storage: storage.name }, `retention: storage ${storage.name} cannot prune`);
      this.warned = true;
      return null;
    }
    const startedAt = clock.now();
    const counts: RetentionCounts = { executions: 0, approvals: 0, orders: 0, audit: 0 };
    const byId = new Map<string, ScheduleRecord>();
    for (const s of this.deps.schedules()) byId.set(s.id, s);
    // The known schedules, then those with history only (removed ones): the global policy.
    const ids = new Set(byId.keys());
    for (let after: string | null = null; ; ) {
      const page: string[] = await (
        storage.executionScheduleIds as NonNullable<Storage["executionScheduleIds"]>
      )(after, ID_PAGE);
      for (const id of page) ids.add(id);
      if (page.length < ID_PAGE) break;
      after = page[page.length - 1] as string;
    }
    for (const scheduleId of ids) {
      const rule = executionRule(policy, byId.get(scheduleId), clock.now());
      if (rule === null) continue;
      counts.executions += await this.batches(signal, () =>
        (storage.pruneExecutions as NonNullable<Storage["pruneExecutions"]>)({
          scheduleId,
          ...rule,
          limit: policy.batchSize,
        }),
      );
    }
    const records = [
      ["approvals", policy.approvals.maxAgeMs, storage.pruneApprovals],
      ["orders", policy.orders.maxAgeMs, storage.pruneOrders],
      ["audit", policy.audit.maxAgeMs, storage.pruneAudit],
    ] as const;
    for (const [kind, maxAgeMs, prune] of records) {
      if (maxAgeMs === null || !prune) continue;
      counts[kind] += await this.batches(signal, () =>
        prune.call(storage, { before: clock.now() - maxAgeMs, limit: policy.batchSize }),
      );
    }
    const durationMs = clock.now() - startedAt;
    const total = counts.executions + counts.approvals + counts.orders + counts.audit;
    if (total === 0) {
      logger.debug({ durationMs }, "retention: nothing to prune");
      return counts;
    }
    logger.info({ ...counts, durationMs }, `retention: pruned ${total} record(s) in ${durationMs} ms`);
    this.deps.emit({ at: clock.now(), ...counts, durationMs });
    return counts;
  }

  /** Calls `batch` until it deletes less than a full batch, yielding between calls. */
  private async batches(signal: AbortSignal | undefined, batch: () => Promise<number>): Promise<number> {
    const limit = this.policy?.batchSize ?? 1;
    let total = 0;
    for (;;) {
      if (signal?.aborted) return total;
      await this.yieldToFires(signal);
      if (signal?.aborted) return total;
      const deleted = await batch();
      total += deleted;
      if (deleted < limit) return total;
    }
  }

  /** Lets timers and I/O run, and waits out a fire that is about to be due. */
  private async yieldToFires(signal: AbortSignal | undefined): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const next = this.deps.nextFireAt();
    if (next === null) return;
    const wait = next - this.deps.clock.now();
    if (wait >= 0 && wait < FIRE_GUARD_MS) {
      await sleep(this.deps.clock, wait + 1, signal).catch(() => {});
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
