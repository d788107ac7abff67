/**
 * Retention: the scheduler role that keeps the stored history from growing without bound. It
 * prunes in the background, off the fire path: one pass at a time, each a series of small batches
 * (at most `batchSize` records per storage call), paced so that pruning never moves fire lateness
 * (see {@link Pacer}): a batch holds the event loop for about `batchTime` at most, the pass spends
 * at most `dutyCycle` of the wall time in storage calls, and no batch starts just before a fire
 * is due. Several instances may prune one storage at once:
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
import { type Clock, sleep, systemClock } from "../time/clock.js";
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
  /**
   * The most records one storage call deletes (1-10,000; default 500). The batch actually asked
   * for adapts below it to {@link RetentionOptions.batchTime}.
   */
  batchSize?: number;
  /**
   * How long one batch may hold the event loop for its records (ms or '2ms'; default 2 ms, at
   * most 1 s), on top of the storage's fixed cost per call (SQLite's commit fsync). After each
   * batch the next one is sized from the measured cost per record: a storage that deletes on the
   * event loop (MemoryStorage, SQLite) gets batches that fit; one that deletes on a server
   * (PostgreSQL) holds the loop for almost nothing and gets `batchSize`.
   */
  batchTime?: number | string;
  /**
   * The most of the wall time a pass spends in storage calls (0.01-1; default 0.2): after a batch
   * that took `t` ms the pass waits `t * (1 - dutyCycle) / dutyCycle` ms (4 t at 0.2), plus any
   * time the event loop was late waking it, so the storage and the event loop stay mostly free
   * for fires. 1 runs batches back to back (still yielding and stepping aside before fires).
   */
  dutyCycle?: number;
}

/** The policy in force, durations in ms; null: that limit is off. */
export interface RetentionPolicy {
  executions: { maxAgeMs: number | null; keepLast: number | null };
  approvals: { maxAgeMs: number | null };
  orders: { maxAgeMs: number | null };
  audit: { maxAgeMs: number | null };
  intervalMs: number;
  batchSize: number;
  batchTimeMs: number;
  dutyCycle: number;
}

/** Seven years of days: how long the trading record (approvals, orders, audit) is kept by default. */
const TRADING_RECORD_DAYS = 7 * 365 + 2;

/**
 * The defaults: executions 30 days but at least the last 100 of each schedule; final approvals,
 * final orders and the audit log seven years (they are the trading record, kept as long as a
 * broker-dealer keeps its own, and small next to run history); a pass every hour in batches of
 * at most 500, each holding the event loop about 2 ms at most, pruning at most 20 % of the time.
 * On by default: a durable storage must not grow without bound unless asked to.
 */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({
  executions: Object.freeze({ maxAgeMs: 30 * DAY, keepLast: 100 }),
  approvals: Object.freeze({ maxAgeMs: TRADING_RECORD_DAYS * DAY }),
  orders: Object.freeze({ maxAgeMs: TRADING_RECORD_DAYS * DAY }),
  audit: Object.freeze({ maxAgeMs: TRADING_RECORD_DAYS * DAY }),
  intervalMs: 3_600_000,
  batchSize: 500,
  batchTimeMs: 2,
  dutyCycle: 0.2,
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
  batchTime: positiveDurationSchema.refine((ms) => ms <= 1000, "must be at most 1 s").optional(),
  dutyCycle: z.number().min(0.01).max(1).optional(),
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
    batchTimeMs: o.batchTime ?? d.batchTimeMs,
    dutyCycle: o.dutyCycle ?? d.dutyCycle,
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
  /**
   * Settles once the fires being claimed or started now are (nothing when none are), so a batch
   * never starts while a fire's claim is still on its way: the scheduler's in-flight claims.
   */
  firesStarting?: () => Promise<unknown>[];
  emit: (payload: SchedulerEvents["retention:pruned"]) => void;
  reportError: (error: unknown, context: string) => void;
  /**
   * A monotonic ms counter the pacing measures batches with (sub-ms resolution helps: a batch
   * is meant to take about 2 ms). Default: `performance.now()` with the system clock, otherwise
   * `clock.now()` (so a TestClock's batches take the time the test says).
   */
  elapsed?: () => number;
}

/** Schedule ids read from the storage per call, when looking for the history of removed schedules. */
const ID_PAGE = 500;
/** A batch does not start when a fire is due sooner than this (ms): the fire goes first. */
const FIRE_GUARD_MS = 20;
/** After stepping aside for a fire, the batch waits this long past its due instant (its claim and start go first). */
const AFTER_FIRE_MS = 3;
/** The longest a batch waits for fires still being claimed or started (ms): they must not stall a pass. */
const STARTING_WAIT_MS = 20;
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
  private readonly elapsed: () => number;

  constructor(
    private readonly deps: RetentionDeps,
    /** The policy; null: retention is off. */
    readonly policy: RetentionPolicy | null,
  ) {
    const { clock } = deps;
    this.elapsed = deps.elapsed ?? (clock === systemClock ? () => performance.now() : () => clock.now());
  }

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
    const pacer = new Pacer(policy, this.elapsed);
    for (const scheduleId of ids) {
      const rule = executionRule(policy, byId.get(scheduleId), clock.now());
      if (rule === null) continue;
      counts.executions += await this.batches(signal, pacer, (limit) =>
        (storage.pruneExecutions as NonNullable<Storage["pruneExecutions"]>)({ scheduleId, ...rule, limit }),
      );
    }
    const records = [
      ["approvals", policy.approvals.maxAgeMs, storage.pruneApprovals],
      ["orders", policy.orders.maxAgeMs, storage.pruneOrders],
      ["audit", policy.audit.maxAgeMs, storage.pruneAudit],
    ] as const;
    for (const [kind, maxAgeMs, prune] of records) {
      if (maxAgeMs === null || !prune) continue;
      counts[kind] += await this.batches(signal, pacer, (limit) =>
        prune.call(storage, { before: clock.now() - maxAgeMs, limit }),
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

  /** Calls `batch` until it deletes less than it was asked for, paced by `pacer`. */
  private async batches(
    signal: AbortSignal | undefined,
    pacer: Pacer,
    batch: (limit: number) => Promise<number>,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      if (signal?.aborted) return total;
      await this.waitForTurn(signal, pacer);
      if (signal?.aborted) return total;
      const limit = pacer.size;
      const deleted = await pacer.measure(() => batch(limit));
      total += deleted;
      if (deleted < limit) return total;
    }
  }

  /**
   * Waits before the next batch: the pause the pacer asks for (the duty cycle), then, when a fire
   * is due within the guard (or sooner than the batch would end), until just after it.
   */
  private async waitForTurn(signal: AbortSignal | undefined, pacer: Pacer): Promise<void> {
    const { clock } = this.deps;
    await new Promise<void>((resolve) => setImmediate(resolve));
    const pause = pacer.pause();
    if (pause > 0) {
      const planned = pacer.now() + pause;
      await sleep(clock, pause, signal).catch(() => {});
      // Woken late: the event loop is busy (fires, a collection); wait as long again next time.
      pacer.lag(pacer.now() - planned);
    }
    if (signal?.aborted) return;
    const next = this.deps.nextFireAt();
    const wait = next === null ? Number.POSITIVE_INFINITY : next - clock.now();
    // A fire just overdue (its timer not yet run: the loop is a turn behind) counts as due now;
    // one overdue by more than the guard is not about to start (paused, held) and waits for no one.
    if (wait > -FIRE_GUARD_MS && wait < Math.max(FIRE_GUARD_MS, 2 * pacer.expectedMs)) {
      await sleep(clock, Math.max(0, wait) + AFTER_FIRE_MS, signal).catch(() => {});
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.untilStarted(signal);
  }

  /**
   * Waits for the fires being claimed or started now, at most {@link STARTING_WAIT_MS}: a claim
   * slower than AFTER_FIRE_MS (a busy disk) would otherwise come back while the batch holds the
   * loop, and its handler start behind it (FileStorage at 1,000,000 rows: p99 1.23-1.30x of
   * retention off without this wait, 0.88-0.98x with it; bench/retention.bench.mjs).
   */
  private async untilStarted(signal: AbortSignal | undefined): Promise<void> {
    const starting = this.deps.firesStarting?.() ?? [];
    if (starting.length === 0 || signal?.aborted) return;
    const limit = new AbortController();
    const onAbort = () => limit.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    await Promise.race([
      Promise.all(starting),
      sleep(this.deps.clock, STARTING_WAIT_MS, limit.signal).catch(() => {}),
    ]);
    limit.abort();
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The smallest batch the pacer asks for (below it, a call's fixed cost dominates). */
const MIN_BATCH = 10;
/** The first batch of a pass: small, until one has been measured. */
const FIRST_BATCH = 50;
/** How much each older batch counts less in the fit of the per-record cost. */
const FORGET = 0.9;
/** The longest pause between two batches (a pass must still end). */
const MAX_PAUSE_MS = 1000;

/**
 * Paces one pass: sizes each batch and the pause before it from what the batches before it took.
 * Two measures per batch: how long it held the event loop (from the call until a callback queued
 * right after it ran: a storage that deletes on the loop, synchronously, delays that callback by
 * its work; one that waits on a server does not), which sizes the batch so its cost per record
 * fits `batchTime` (see {@link Pacer.learn}); and
 * its wall time (call to settle), which sets the pause so storage calls take at most `dutyCycle`
 * of the pass.
 */
export class Pacer {
  /** The batch to ask for next. */
  size: number;
  private tookMs = 0;
  private lagMs = 0;
  /** Decayed sums for the least-squares fit of loop time against batch size (see learn). */
  private readonly fit = { n: 0, s: 0, h: 0, ss: 0, sh: 0 };
  /** A moving estimate of how long a batch holds the event loop (ms). */
  expectedMs = 0;

  constructor(
    private readonly policy: Pick<RetentionPolicy, "batchSize" | "batchTimeMs" | "dutyCycle">,
    /** The monotonic ms counter batches are measured with. */
    readonly now: () => number,
  ) {
    this.size = Math.min(policy.batchSize, FIRST_BATCH);
  }

  /** Runs one batch and learns from it (see the class comment). */
  async measure(batch: () => Promise<number>): Promise<number> {
    const size = this.size;
    const start = this.now();
    let heldUntil = start;
    const done = batch();
    // Queued after the call, so it runs after whatever the call queued for this turn (SQLite's
    // group commit is a setImmediate too).
    const probe = new Promise<void>((resolve) =>
      setImmediate(() => {
        heldUntil = this.now();
        resolve();
      }),
    );
    try {
      return await done;
    } finally {
      await probe;
      this.learn(heldUntil - start, this.now() - start, size);
    }
  }

  /**
   * Adjusts the next batch and pause to a batch of `size` records (default: the one asked for)
   * that held the loop `heldMs` and took `tookMs`. The loop time of a batch is a fixed cost per
   * call (SQLite's commit fsync: several ms however few rows) plus a cost per record; only the
   * second shrinks with the batch, so the size comes from the per-record cost, fitted by least
   * squares over the recent batches (older ones count less), not from the whole time: shrinking
   * a batch whose time is mostly the fsync only makes the pass longer.
   */
  learn(heldMs: number, tookMs: number, size = this.size): void {
    const { batchSize, batchTimeMs } = this.policy;
    this.tookMs = tookMs;
    this.expectedMs = this.expectedMs === 0 ? heldMs : 0.7 * this.expectedMs + 0.3 * heldMs;
    const f = this.fit;
    for (const k of ["n", "s", "h", "ss", "sh"] as const) f[k] *= FORGET;
    f.n += 1;
    f.s += size;
    f.h += heldMs;
    f.ss += size * size;
    f.sh += size * heldMs;
    const spread = f.n * f.ss - f.s * f.s;
    let want: number;
    if (spread > 1e-6 * f.ss * f.n) {
      // Two or more sizes seen: records that fit batchTime at the fitted per-record cost.
      const perRecord = (f.n * f.sh - f.s * f.h) / spread;
      want = perRecord > 0 ? batchTimeMs / perRecord : Number.POSITIVE_INFINITY;
    } else {
      // One size so far: as if all of its time were per record (a first guess, corrected next).
      want = heldMs > 0 ? (size * batchTimeMs) / heldMs : Number.POSITIVE_INFINITY;
    }
    // At most 1.5 times larger or 4 times smaller per batch, between MIN_BATCH and batchSize.
    const next = Math.min(Math.ceil(size * 1.5), Math.max(Math.floor(size / 4), Math.floor(want)));
    this.size = Math.max(Math.min(MIN_BATCH, batchSize), Math.min(batchSize, next));
  }

  /** Records how late the event loop woke the pass (ms): added to the next pause. */
  lag(ms: number): void {
    this.lagMs = Math.max(0, ms);
  }

  /** How long to wait before the next batch (ms). */
  pause(): number {
    const { dutyCycle } = this.policy;
    const own = (this.tookMs * (1 - dutyCycle)) / dutyCycle;
    const lag = this.lagMs;
    this.lagMs = 0;
    return Math.min(MAX_PAUSE_MS, own + lag);
  }
}
