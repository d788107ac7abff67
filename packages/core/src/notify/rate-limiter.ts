/**
 * A sliding-window rate limiter over explicit instants: "at most `limit` sends in any `interval`",
 * for one or more windows at once (Telegram: 1 per second and 20 per minute to a group), plus a
 * hold until an instant (a 429's retry-after, Discord's `X-RateLimit-Reset-After`).
 *
 * It is pure bookkeeping: callers pass the time, so it runs on an injected clock and tests need no
 * timers. Bottleneck, p-throttle and limiter were considered; each reads `Date.now()` and arms its
 * own timers, so none can follow tradecron's injected clock.
 */

/** At most `limit` sends in any `intervalMs`. */
export interface RateWindow {
  limit: number;
  intervalMs: number;
}

/** Sliding-window limiter for one destination. */
export class RateLimiter {
  private readonly windows: readonly RateWindow[];
  /** Send instants, oldest first; only as many as the largest window can need. */
  private readonly sends: number[] = [];
  private readonly keep: number;
  private heldUntil = Number.NEGATIVE_INFINITY;

  constructor(windows: readonly RateWindow[]) {
    this.windows = windows.map((w) => ({
      limit: Math.max(1, Math.floor(w.limit)),
      intervalMs: w.intervalMs,
    }));
    this.keep = Math.max(0, ...this.windows.map((w) => w.limit));
  }

  /** The windows in force, as given. */
  get rules(): readonly RateWindow[] {
    return this.windows;
  }

  /** How long after `now` the next send may go out (0: at once). */
  waitMs(now: number): number {
    let at = Math.max(now, this.heldUntil);
    for (const { limit, intervalMs } of this.windows) {
      // The send `limit` places back must have left the window before another may go.
      const blocking = this.sends[this.sends.length - limit];
      if (blocking !== undefined) at = Math.max(at, blocking + intervalMs);
    }
    return at - now;
  }

  /** Records a send at `now`. */
  record(now: number): void {
    this.sends.push(now);
    if (this.sends.length > this.keep) this.sends.splice(0, this.sends.length - this.keep);
  }

  /** Sends nothing before `until` (a server asked us to wait); an earlier hold is kept if longer. */
  holdUntil(until: number): void {
    if (until > this.heldUntil) this.heldUntil = until;
  }

  /** A short description for messages: `1 per 1 s, 20 per 60 s`. */
  describe(): string {
    return this.windows.map((w) => `${w.limit} per ${formatSpan(w.intervalMs)}`).join(", ") || "unlimited";
  }
}

/** `60 s`, `2 s`, `1.5 s`, `500 ms`. */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return `${Math.round(ms / 100) / 10} s`;
}
