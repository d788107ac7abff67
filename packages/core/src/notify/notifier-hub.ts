/**
 * NotifierHub: fans each notification out to several notifiers without ever blocking or failing
 * the caller. `notify()` is synchronous and never throws: it queues the notification for each
 * notifier and returns. Each notifier has its own lane (a bounded queue delivered in order, one at
 * a time), so a slow or hanging webhook delays nobody else. Failures, and notifications dropped
 * from a full queue, go to `onError`. `flush()` waits until every lane is idle and every notifier
 * has sent what it held back (its optional `flush()`, bounded by `flushTimeout`). Notifiers with
 * work of their own in the background (`attach()`) report its failures to `onError` too.
 */

import { z } from "zod";
import { toError } from "../errors.js";
import { type Clock, sleep, systemClock } from "../time/clock.js";
import { type DurationInput, parseInput, positiveDurationSchema } from "../validation.js";
import {
  type Notification,
  type NotificationInput,
  type Notifier,
  NotifierError,
  toNotification,
} from "./notifier.js";

/** Where a hub error happened. */
export interface NotifierHubErrorContext {
  /** The notifier that failed, or `hub` when the notification itself was invalid. */
  notifier: string;
  /** The notification concerned (null when it could not be built). */
  notification: Notification | null;
}

/** Options of {@link NotifierHub}. */
export interface NotifierHubOptions {
  notifiers?: readonly Notifier[];
  /** Most notifications waiting per notifier; beyond it the oldest is dropped (default 1,000). */
  maxQueue?: number;
  /** Time source for notifications raised without a timestamp (default the system clock). */
  clock?: Clock;
  /**
   * Receives delivery failures, drops, invalid notifications, and the background failures of
   * notifiers that have `attach()` (a storm summary that could not be sent). Its own errors are ignored.
   */
  onError?: (error: Error, context: NotifierHubErrorContext) => void;
  /**
   * Longest wait, in `flush()` and `close()`, for one notifier's own `flush()` (pending summaries),
   * on the hub's clock; one that takes longer is reported to `onError` (default 10 s).
   */
  flushTimeout?: DurationInput;
}

const isFunction = (v: unknown) => typeof v === "function";

const notifierSchema = z.custom<Notifier>(
  (v) =>
    typeof v === "object" &&
    v !== null &&
    typeof (v as Notifier).name === "string" &&
    (v as Notifier).name.length > 0 &&
    isFunction((v as Notifier).notify),
  { message: "must be a Notifier (a name and a notify function)" },
);

const optionsSchema = z.strictObject({
  notifiers: z.array(notifierSchema).default([]),
  maxQueue: z.int().min(1).max(1_000_000).default(1_000),
  clock: z
    .custom<Clock>((v) => typeof v === "object" && v !== null && isFunction((v as Clock).now), {
      message: "must be a Clock",
    })
    .optional(),
  onError: z
    .custom<(error: Error, context: NotifierHubErrorContext) => void>(isFunction, {
      message: "must be a function",
    })
    .optional(),
  flushTimeout: positiveDurationSchema.default(10_000),
});

class Lane {
  readonly queue: Notification[] = [];
  /** 1 while a delivery is in progress. */
  delivering = 0;
  private running = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  constructor(
    readonly notifier: Notifier,
    private readonly report: (error: unknown, notification: Notification) => void,
  ) {}

  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  /** Resolves when the lane has nothing left to deliver. */
  whenIdle(): Promise<void> {
    return this.idle;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.idle = new Promise((resolve) => {
      this.markIdle = resolve;
    });
    // Deliveries start after the caller's synchronous code, so even a notifier that blocks
    // before its first await cannot hold up the caller.
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    for (let n = this.queue.shift(); n !== undefined; n = this.queue.shift()) {
      this.delivering = 1;
      try {
        await this.notifier.notify(n);
      } catch (error) {
        this.report(error, n);
      } finally {
        this.delivering = 0;
      }
    }
    this.running = false;
    this.markIdle();
  }
}

/** Delivers notifications to several notifiers in the background. */
export class NotifierHub {
  private readonly lanes: Lane[] = [];
  private readonly maxQueue: number;
  private readonly clock: Clock;
  private readonly onError: ((error: Error, context: NotifierHubErrorContext) => void) | undefined;
  private readonly flushTimeoutMs: number;
  private closed = false;

  /** @throws ValidationError naming the bad option. */
  constructor(options: NotifierHubOptions = {}) {
    const parsed = parseInput(optionsSchema, options, "NotifierHub");
    this.maxQueue = parsed.maxQueue;
    this.clock = parsed.clock ?? systemClock;
    this.onError = parsed.onError;
    this.flushTimeoutMs = parsed.flushTimeout;
    for (const notifier of parsed.notifiers) this.add(notifier);
  }

  /**
   * Adds a notifier, and gives it the hub's error report for its background work (`attach`);
   * returns a function that removes it (after its queued deliveries).
   */
  add(notifier: Notifier): () => void {
    const checked = parseInput(notifierSchema, notifier, "NotifierHub", "notifier");
    const report = (error: unknown, n: Notification | null) =>
      this.report(error, { notifier: checked.name, notification: n });
    const lane = new Lane(checked, report);
    this.lanes.push(lane);
    if (typeof checked.attach === "function") {
      try {
        checked.attach((error, n) => report(error, n ?? null));
      } catch (error) {
        report(error, null);
      }
    }
    return () => {
      const i = this.lanes.indexOf(lane);
      if (i >= 0) this.lanes.splice(i, 1);
    };
  }

  /** Names of the notifiers, in the order they were added. */
  get names(): string[] {
    return this.lanes.map((l) => l.notifier.name);
  }

  /** Notifications queued or being delivered, over all notifiers. */
  get pending(): number {
    return this.lanes.reduce((sum, l) => sum + l.queue.length + l.delivering, 0);
  }

  /**
   * Queues `input` for every notifier and returns at once. Never throws: an invalid notification,
   * a full queue or a failed delivery is reported to `onError`.
   */
  notify(input: NotificationInput): void {
    let notification: Notification;
    try {
      if (this.closed) throw new NotifierError("NotifierHub: closed; notification not sent");
      notification = toNotification(input, this.clock, "NotifierHub");
    } catch (error) {
      this.report(error, { notifier: "hub", notification: null });
      return;
    }
    for (const lane of this.lanes) {
      if (lane.queue.length >= this.maxQueue) {
        const dropped = lane.queue.shift() as Notification;
        this.report(
          new NotifierError(
            `NotifierHub: queue of ${lane.notifier.name} is full (${this.maxQueue}); dropped '${dropped.subject}'`,
            { details: { notifier: lane.notifier.name, maxQueue: this.maxQueue } },
          ),
          { notifier: lane.notifier.name, notification: dropped },
        );
      }
      lane.queue.push(notification);
      lane.start();
    }
  }

  /**
   * Resolves when every notifier has delivered (or failed) everything queued, including
   * notifications queued meanwhile, and has sent what it held back (each notifier's own `flush()`,
   * at most `flushTimeout` each).
   */
  async flush(): Promise<void> {
    await this.idle();
    await Promise.all(this.lanes.map((l) => this.flushNotifier(l.notifier)));
    await this.idle();
  }

  private async idle(): Promise<void> {
    while (this.lanes.some((l) => l.busy)) {
      await Promise.all(this.lanes.map((l) => l.whenIdle()));
    }
  }

  /** Awaits `notifier.flush()` if it has one, up to the deadline; failures and overruns go to onError. */
  private async flushNotifier(notifier: Notifier): Promise<void> {
    if (typeof notifier.flush !== "function") return;
    const deadline = new AbortController();
    let late = false;
    const timer = sleep(this.clock, this.flushTimeoutMs, deadline.signal).then(
      () => {
        late = true;
      },
      () => {},
    );
    try {
      // Through a promise, so a flush that throws synchronously is a rejection like any other.
      await Promise.race([Promise.resolve().then(() => notifier.flush?.()), timer]);
      if (late) {
        this.report(
          new NotifierError(
            `NotifierHub: flush of notifier ${notifier.name} did not finish within ${this.flushTimeoutMs} ms`,
            { details: { notifier: notifier.name, flushTimeoutMs: this.flushTimeoutMs } },
          ),
          { notifier: notifier.name, notification: null },
        );
      }
    } catch (error) {
      this.report(error, { notifier: notifier.name, notification: null });
    } finally {
      deadline.abort();
    }
  }

  /** Stops accepting notifications and waits for the queued ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private report(error: unknown, context: NotifierHubErrorContext): void {
    try {
      this.onError?.(toError(error), context);
    } catch {
      // The error hook itself failed; the hub must still never fail its caller.
    }
  }
}
