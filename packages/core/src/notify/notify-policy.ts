/**
 * The delivery policy every notifier can wear: filters (kinds, minimum severity), a rate limit,
 * retries with backoff that honour a server's retry-after, and explicit storm behaviour.
 * `withPolicy(notifier, options)` wraps any notifier (webhook, function, console, your own); the
 * Slack, Discord, Telegram and email notifiers are built on it with each service's limits.
 *
 * What happens to a notification, in order:
 *
 * 1. **Filtered**: its kind is not in `kinds`, is in `excludeKinds`, or its severity is below
 *    `minSeverity`. Resolved at once, counted `filtered`. (Summaries are never filtered.)
 * 2. **Sent**: a send slot is free now. Delivered, retried on retryable failures; the promise
 *    settles with the outcome (a hub reports a rejection to its `onError`).
 * 3. **Delayed**: the next slot comes at most `maxDelay` after the notification's own timestamp.
 *    It waits for the slot, then as 2. Counted `delayed`.
 * 4. **Coalesced**: the slot would come later than that, or its kind is already being summarised.
 *    Resolved at once, counted `coalesced`, folded into its kind's summary. `summaryWindow` after
 *    the first one, one summary goes out: "37 more run_failed notifications suppressed in the last
 *    minute", with the subjects of the first five and of the last. Their bodies and data are not
 *    kept: that is what a storm costs. A summary of one is the notification itself. After a
 *    summary the kind stays summarised until a whole window passes without one.
 * 5. **Dropped**: only when a summary cannot be delivered after its retries. Counted `dropped` (by
 *    the notifications it covered) and reported, never silently: to `onError` when given, else to
 *    the hub the policy was added to (`attach`: the hub's `onError`, the scheduler's
 *    `scheduler:error`), else as a process warning with code `TRADECRON_NOTIFIER`.
 *
 * Each attempt, retries and summaries included, takes a slot, so the limit holds on the wire; a
 * 429's retry-after holds every send until it has passed. `flush()` sends pending summaries now;
 * a hub's `flush()` and `close()` call it, so a scheduler's `stop()` sends them too.
 */

import { inspect } from "node:util";
import { z } from "zod";
import { toError } from "../errors.js";
import { backoffDelay } from "../scheduler/retry.js";
import { type Clock, clockSchema, sleep, systemClock, type TimerHandle } from "../time/clock.js";
import { type DurationInput, durationSchema, parseInput, positiveDurationSchema } from "../validation.js";
import { SummaryBucket, summaryNotification } from "./notification-summary.js";
import {
  NOTIFICATION_SEVERITIES,
  type Notification,
  type NotificationSeverity,
  type Notifier,
  NotifierError,
  parseNotification,
} from "./notifier.js";
import { RateLimiter, type RateWindow } from "./rate-limiter.js";

/** A rate window as configured: at most `limit` sends per `interval` (ms or `"2s"`). */
export interface RateWindowInput {
  limit: number;
  interval: DurationInput;
}

/** Retries of one delivery. */
export interface PolicyRetryOptions {
  /** Tries in all, first included (default 3). */
  attempts?: number;
  /** First backoff wait, ms (default 1,000). */
  baseMs?: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /** Longest backoff wait, ms (default 30,000). */
  maxMs?: number;
  /** Spread of each wait, 0..1 (default 0). */
  jitter?: number;
}

/** Where a background failure of a policy happened. */
export interface PolicyErrorContext {
  notifier: string;
  /** The summary that could not be delivered. */
  notification: Notification;
}

/** Options of {@link withPolicy}; the same keys configure the Slack, Discord, Telegram and email notifiers. */
export interface NotifyPolicyOptions {
  /** Deliver only these kinds (default: all). */
  kinds?: readonly string[];
  /** Never deliver these kinds. */
  excludeKinds?: readonly string[];
  /** Least severity delivered (default `info`: everything). */
  minSeverity?: NotificationSeverity;
  /** At most `limit` sends per `interval`, one window or several; `false`: no limit. */
  rateLimit?: false | RateWindowInput | readonly RateWindowInput[];
  /** Longest wait for a slot, counted from the notification's timestamp, before it is coalesced (default 10 s). */
  maxDelay?: DurationInput;
  /** How long a summary gathers before it is sent (default 60 s). */
  summaryWindow?: DurationInput;
  /** Retries on retryable failures; `false`: one attempt. */
  retry?: false | PolicyRetryOptions;
  /** Longest retry-after honoured by retrying; a longer one fails the attempt for good (default 5 min). */
  maxRetryAfter?: DurationInput;
  /** Clock for waits and summary timers (default the system clock). */
  clock?: Clock;
  /**
   * Receives background failures (a summary that could not be delivered). Default: the hub's
   * `onError` once the policy is in a hub (`attach`), else a process warning.
   */
  onError?: (error: NotifierError, context: PolicyErrorContext) => void;
}

/** Counters of a policy since it was made. */
export interface NotifyPolicyStats {
  /** Valid notifications handed to it. */
  received: number;
  filtered: number;
  /** Delivered one by one. */
  sent: number;
  /** Of those sent or failed, how many waited for a slot first. */
  delayed: number;
  /** Failed one by one (the caller's promise rejected). */
  failed: number;
  /** Folded into a summary. Each ends `summarized`, `dropped`, or is still `pendingSummary`. */
  coalesced: number;
  /** Summary messages delivered. */
  summaries: number;
  /** Coalesced notifications covered by a delivered summary. */
  summarized: number;
  /** Coalesced notifications whose summary could not be delivered. */
  dropped: number;
  /** Coalesced notifications waiting in an open summary. */
  pendingSummary: number;
  /** Retries made. */
  retried: number;
  /** Answers that asked to wait (429, retry-after). */
  rateLimited: number;
}

/** What a service sets when it builds on the policy: its published limits and retry counts. */
export interface PolicyDefaults {
  rateLimit: readonly RateWindowInput[] | false;
  retry: PolicyRetryOptions | false;
}

const kindSchema = z.string().trim().min(1).max(100);
const isFunction = (v: unknown) => typeof v === "function";

const rateWindowSchema = z.strictObject({
  limit: z.int().min(1).max(100_000),
  interval: positiveDurationSchema,
});

const retrySchema = z.strictObject({
  attempts: z.int().min(1).max(20).default(3),
  baseMs: z.number().min(0).max(3_600_000).default(1_000),
  factor: z.number().min(1).max(10).default(2),
  maxMs: z.number().min(0).max(3_600_000).default(30_000),
  jitter: z.number().min(0).max(1).default(0),
});

/**
 * The policy keys as a zod shape, for notifiers that take them among their own options (spread
 * it into a `z.strictObject`). Everything is optional; defaults are applied by the policy.
 */
export const notifyPolicyShape = {
  kinds: z.array(kindSchema).min(1).max(1_000).optional(),
  excludeKinds: z.array(kindSchema).max(1_000).optional(),
  minSeverity: z.enum(NOTIFICATION_SEVERITIES).optional(),
  // false means no windows; one window means a list of one. (Not a union: its errors name no field.)
  rateLimit: z
    .preprocess(
      (v) => (v === false ? [] : v === undefined || Array.isArray(v) ? v : [v]),
      z.array(rateWindowSchema).max(10),
    )
    .optional(),
  maxDelay: durationSchema.optional(),
  summaryWindow: positiveDurationSchema.optional(),
  retry: z.preprocess((v) => (v === false ? { attempts: 1 } : v), retrySchema).optional(),
  maxRetryAfter: durationSchema.optional(),
  clock: clockSchema.optional(),
  onError: z
    .custom<(error: NotifierError, context: PolicyErrorContext) => void>(isFunction, {
      message: "must be a function",
    })
    .optional(),
};

/** The policy keys that a config file can hold (no clock, no callbacks). */
export const notifyPolicyConfigShape = {
  kinds: notifyPolicyShape.kinds,
  excludeKinds: notifyPolicyShape.excludeKinds,
  minSeverity: notifyPolicyShape.minSeverity,
  rateLimit: notifyPolicyShape.rateLimit,
  maxDelay: notifyPolicyShape.maxDelay,
  summaryWindow: notifyPolicyShape.summaryWindow,
  retry: notifyPolicyShape.retry,
  maxRetryAfter: notifyPolicyShape.maxRetryAfter,
};

const policySchema = z.object(notifyPolicyShape);
const strictPolicySchema = z.strictObject(notifyPolicyShape);

/** Anything with a non-empty name and a notify function. */
const isNotifier = (v: unknown): v is Notifier =>
  isFunction((v as Notifier | null)?.notify) &&
  typeof (v as Notifier).name === "string" &&
  (v as Notifier).name !== "";
const notifierSchema = z.custom<Notifier>(isNotifier, {
  message: "must be a Notifier (a name and a notify function)",
});
const POLICY_KEYS = Object.keys(notifyPolicyShape) as (keyof NotifyPolicyOptions)[];

/** The policy keys of a larger options object. */
export function pickPolicyOptions(options: object): NotifyPolicyOptions {
  const out: Record<string, unknown> = {};
  for (const key of POLICY_KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as NotifyPolicyOptions;
}

const RANK: Record<NotificationSeverity, number> = { info: 0, warning: 1, critical: 2 };
const DEFAULT_MAX_DELAY_MS = 10_000;
const DEFAULT_SUMMARY_WINDOW_MS = 60_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Kinds summarised separately; beyond this, further kinds share one bucket (bounded memory). */
const MAX_BUCKETS = 50;
const OVERFLOW_KIND = "other";

const WITH_POLICY_DEFAULTS: PolicyDefaults = { rateLimit: false, retry: false };

function defaultReport(error: NotifierError): void {
  process.emitWarning(error.message, { code: "TRADECRON_NOTIFIER" });
}

function retryAfterOf(error: NotifierError): number {
  const v = error.details?.retryAfterMs;
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0;
}

/** A notifier behind a delivery policy. */
export class PolicyNotifier implements Notifier {
  readonly name: string;
  protected readonly clock: Clock;
  private readonly inner: Notifier;
  private readonly limiter: RateLimiter;
  private readonly kinds: ReadonlySet<string> | null;
  private readonly excludeKinds: ReadonlySet<string>;
  private readonly minRank: number;
  private readonly maxDelayMs: number;
  private readonly summaryWindowMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly retry: z.output<typeof retrySchema>;
  /** The `onError` option, if given: it takes precedence over any attached reporter. */
  private readonly onError: ((error: NotifierError, context: PolicyErrorContext) => void) | null;
  /** Reporters of the hubs this policy was added to. */
  private readonly attached = new Set<(error: Error, notification?: Notification) => void>();
  private readonly buckets = new Map<string, { bucket: SummaryBucket; timer: TimerHandle }>();
  private readonly counters: Omit<NotifyPolicyStats, "pendingSummary"> = {
    received: 0,
    filtered: 0,
    sent: 0,
    delayed: 0,
    failed: 0,
    coalesced: 0,
    summaries: 0,
    summarized: 0,
    dropped: 0,
    retried: 0,
    rateLimited: 0,
  };
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * @param inner the notifier that delivers.
   * @param defaults what unset `rateLimit` and `retry` mean (a service's published limits).
   * @throws ValidationError naming the bad option.
   */
  constructor(
    inner: Notifier,
    options: NotifyPolicyOptions = {},
    defaults: PolicyDefaults = WITH_POLICY_DEFAULTS,
  ) {
    parseInput(notifierSchema, inner, "withPolicy", "notifier");
    const o = parseInput(policySchema, pickPolicyOptions(options ?? {}), `notifier ${inner.name}`);
    this.inner = inner;
    this.name = inner.name;
    this.clock = o.clock ?? systemClock;
    const rate =
      o.rateLimit ?? parseInput(notifyPolicyShape.rateLimit, defaults.rateLimit, "policy defaults") ?? [];
    const windows: RateWindow[] = rate.map((w) => ({ limit: w.limit, intervalMs: w.interval }));
    this.limiter = new RateLimiter(windows);
    this.kinds = o.kinds ? new Set(o.kinds) : null;
    this.excludeKinds = new Set(o.excludeKinds ?? []);
    this.minRank = RANK[o.minSeverity ?? "info"];
    this.maxDelayMs = o.maxDelay ?? DEFAULT_MAX_DELAY_MS;
    this.summaryWindowMs = o.summaryWindow ?? DEFAULT_SUMMARY_WINDOW_MS;
    this.maxRetryAfterMs = o.maxRetryAfter ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.retry = o.retry ?? (notifyPolicyShape.retry.parse(defaults.retry) as z.output<typeof retrySchema>);
    this.onError = o.onError ?? null;
  }

  /** Counters since the policy was made (a copy). */
  stats(): NotifyPolicyStats {
    let pendingSummary = 0;
    for (const { bucket } of this.buckets.values()) pendingSummary += bucket.count;
    return { ...this.counters, pendingSummary };
  }

  /** The rate limit in force, for people: `1 per 1 s`. */
  get rateLimitDescription(): string {
    return this.limiter.describe();
  }

  /** Handles `notification` as the policy says (see the module comment). */
  async notify(notification: Notification): Promise<void> {
    const n = parseNotification(notification, `notifier ${this.name}`);
    if (this.closed) throw new NotifierError(`notifier ${this.name}: closed; notification not sent`);
    this.counters.received += 1;
    if (!this.passes(n)) {
      this.counters.filtered += 1;
      return;
    }
    return this.serial(() => this.handle(n));
  }

  /**
   * Takes a hub's report for background failures (a summary that could not be delivered). The
   * hub calls it when the policy is added; an explicit `onError` option still takes precedence.
   */
  attach(report: (error: Error, notification?: Notification) => void): void {
    this.attached.add(report);
  }

  /** Sends every pending summary now, and waits for deliveries in progress. */
  async flush(): Promise<void> {
    for (const kind of [...this.buckets.keys()]) await this.serial(() => this.flushBucket(kind, false));
    await this.serial(async () => {});
  }

  /** Flushes, then refuses further notifications. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** What it is, for logs: the name and the limit, nothing of the wrapped notifier's options. */
  toJSON(): { type: string; name: string; destination: string; rateLimit: string } {
    return { type: "policy", name: this.name, destination: "", rateLimit: this.rateLimitDescription };
  }

  [inspect.custom](): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`;
  }

  /** Sends nothing before `until` (epoch ms): a service said so in a response header. */
  protected hold(until: number): void {
    this.limiter.holdUntil(until);
  }

  private passes(n: Notification): boolean {
    if (this.kinds && !this.kinds.has(n.kind)) return false;
    if (this.excludeKinds.has(n.kind)) return false;
    return RANK[n.severity] >= this.minRank;
  }

  /** Runs `fn` after everything queued before it: one delivery at a time keeps the limiter exact. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn, fn);
    this.chain = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async handle(n: Notification): Promise<void> {
    const now = this.clock.now();
    const open = this.buckets.get(this.bucketKey(n.kind));
    if (open) {
      this.coalesce(open.bucket, n);
      return;
    }
    const wait = this.limiter.waitMs(now);
    const raisedAt = Math.min(Date.parse(n.timestamp), now);
    if (wait > 0 && now + wait - raisedAt > this.maxDelayMs) {
      this.coalesce(this.openBucket(this.bucketKey(n.kind), now), n);
      return;
    }
    if (wait > 0) this.counters.delayed += 1;
    try {
      await this.deliver(n);
    } catch (error) {
      this.counters.failed += 1;
      throw error;
    }
    this.counters.sent += 1;
  }

  private bucketKey(kind: string): string {
    return this.buckets.has(kind) || this.buckets.size < MAX_BUCKETS ? kind : OVERFLOW_KIND;
  }

  private coalesce(bucket: SummaryBucket, n: Notification): void {
    bucket.add(n);
    this.counters.coalesced += 1;
  }

  private openBucket(kind: string, now: number): SummaryBucket {
    const bucket = new SummaryBucket(kind, now);
    const timer = this.clock.setTimeout(
      () => void this.serial(() => this.flushBucket(kind, true)),
      this.summaryWindowMs,
    );
    this.buckets.set(kind, { bucket, timer });
    return bucket;
  }

  /** Sends the summary of `kind`; `reopen` keeps the kind summarised for another window. */
  private async flushBucket(kind: string, reopen: boolean): Promise<void> {
    const entry = this.buckets.get(kind);
    if (!entry) return;
    this.clock.clearTimeout(entry.timer);
    this.buckets.delete(kind);
    const { bucket } = entry;
    if (bucket.count === 0) return; // a whole window without one: the storm is over
    const now = this.clock.now();
    if (reopen) this.openBucket(kind, now);
    const single = bucket.count === 1 && bucket.first !== null;
    const message = single
      ? (bucket.first as Notification)
      : summaryNotification(bucket, now, `rate limit of notifier ${this.name}: ${this.limiter.describe()}`);
    try {
      await this.deliver(message);
    } catch (error) {
      this.counters.dropped += bucket.count;
      const e = toError(error);
      const what = single ? `1 ${bucket.kind} notification` : `${bucket.count} ${bucket.kind} notifications`;
      this.safeReport(
        new NotifierError(
          `notifier ${this.name}: ${what} held back by the rate limit dropped: ${single ? "it" : "their summary"} could not be delivered: ${e.message}`,
          { cause: e, details: { notifier: this.name, kind: bucket.kind, dropped: bucket.count } },
        ),
        message,
      );
      return;
    }
    this.counters.summarized += bucket.count;
    if (!single) this.counters.summaries += 1;
  }

  /** One delivery: a slot per attempt, retries with backoff, retry-after honoured. */
  private async deliver(n: Notification): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      await this.takeSlot();
      try {
        await this.inner.notify(n);
        return;
      } catch (error) {
        const e =
          error instanceof NotifierError
            ? error
            : new NotifierError(`notifier ${this.name}: ${toError(error).message}`, { cause: error });
        const retryAfter = retryAfterOf(e);
        if (retryAfter > 0) {
          this.counters.rateLimited += 1;
          this.limiter.holdUntil(this.clock.now() + retryAfter);
        }
        const tooLong = retryAfter > this.maxRetryAfterMs;
        if (!e.retryable || attempt >= this.retry.attempts || tooLong) {
          if (attempt === 1 && !tooLong) throw e;
          const why = tooLong
            ? `asked to wait ${retryAfter} ms, more than maxRetryAfter ${this.maxRetryAfterMs} ms`
            : `gave up after ${attempt} attempts`;
          throw new NotifierError(`${e.message} (${why})`, {
            cause: e,
            details: { ...e.details, notifier: this.name, attempts: attempt },
          });
        }
        this.counters.retried += 1;
        const backoff = backoffDelay({ ...this.retry }, attempt + 1);
        await sleep(this.clock, Math.max(backoff, retryAfter));
      }
    }
  }

  private async takeSlot(): Promise<void> {
    for (
      let wait = this.limiter.waitMs(this.clock.now());
      wait > 0;
      wait = this.limiter.waitMs(this.clock.now())
    ) {
      await sleep(this.clock, wait);
    }
    this.limiter.record(this.clock.now());
  }

  private safeReport(error: NotifierError, notification: Notification): void {
    const reporters: ((e: NotifierError) => void)[] = this.onError
      ? [(e) => this.onError?.(e, { notifier: this.name, notification })]
      : this.attached.size > 0
        ? [...this.attached].map((r) => (e: NotifierError) => r(e, notification))
        : [defaultReport];
    for (const report of reporters) {
      try {
        report(error);
      } catch {
        // A failing error hook must not break the policy's loop.
      }
    }
  }
}

/**
 * Wraps any notifier in a delivery policy: filters, rate limit, retries, coalescing (see the
 * module comment for exactly what happens to each notification). Without options it only
 * validates and serialises; set `rateLimit` and `retry` to taste.
 *
 * ```ts
 * const hook = withPolicy(new WebhookNotifier({ url }), {
 *   minSeverity: "warning",
 *   rateLimit: { limit: 30, interval: "1m" },
 * });
 * ```
 */
export function withPolicy(notifier: Notifier, options: NotifyPolicyOptions = {}): PolicyNotifier {
  // Strict here: a misspelt key (`minSeverty`) must not silently deliver everything.
  parseInput(strictPolicySchema, options, "withPolicy");
  return new PolicyNotifier(notifier, options);
}
