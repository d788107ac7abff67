import { z } from "zod";

/**
 * The scheduler's only source of time. Production uses {@link systemClock}; tests inject
 * `TestClock` from `@tradecron/core/testing`, so nothing in a test ever sleeps.
 *
 * Every timer tradecron sets goes through a Clock, and every Clock tradecron uses is overflow-safe
 * ({@link overflowSafe}): a platform timer fires at once (with a `TimeoutOverflowWarning`) when
 * asked to wait more than 2^31-1 ms, so longer waits are made of shorter links. That is done here,
 * once, rather than at each place that sets a timer (run timeouts, backoff sleeps, lease timers,
 * notifier retries).
 */

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** Wall-clock time and timers. */
export interface Clock {
  /** Current wall-clock time in epoch ms (may jump when the system clock is set). */
  now(): number;
  /**
   * Calls `fn` after `ms`. tradecron's clocks take any delay; a clock of your own only needs to
   * take up to 2^31-1 ms, because tradecron wraps it with {@link overflowSafe} before use.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay a platform timer (Node's, a browser's, fake-timers') waits as asked. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A wait longer than {@link MAX_TIMER_MS}, made of links; `link` is the timer of the current one. */
class ChainedTimer {
  link: TimerHandle | null = null;
}

/** Clocks known to take any delay: tradecron's own, and every clock {@link overflowSafe} returned. */
const SAFE = new WeakSet<Clock>();
const wrappers = new WeakMap<Clock, Clock>();

/**
 * Sets a timer of any delay with `set`, whose timers must stay at or below {@link MAX_TIMER_MS}:
 * a longer delay is waited in links of at most that, each counting down the remainder (so a
 * chained timer keeps its remaining delay when the wall clock jumps, like a platform timer).
 */
function setChained(
  set: (fn: () => void, ms: number) => TimerHandle,
  fn: () => void,
  ms: number,
): TimerHandle {
  const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  if (delay <= MAX_TIMER_MS) return set(fn, delay);
  const timer = new ChainedTimer();
  let remaining = delay;
  const link = () => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    timer.link = set(remaining > 0 ? link : fn, step);
  };
  link();
  return timer;
}

function clearChained(clear: (handle: TimerHandle) => void, handle: TimerHandle): void {
  if (handle instanceof ChainedTimer) {
    if (handle.link !== null) clear(handle.link);
    handle.link = null;
  } else if (handle !== null && handle !== undefined) {
    clear(handle);
  }
}

/**
 * Builds a Clock whose `setTimeout` takes any delay from raw timer functions that only take up to
 * {@link MAX_TIMER_MS} (for clocks of your own; tradecron's are built this way).
 */
export function chainedTimers(
  set: (fn: () => void, ms: number) => TimerHandle,
  clear: (handle: TimerHandle) => void,
): Pick<Clock, "setTimeout" | "clearTimeout"> {
  return {
    setTimeout: (fn, ms) => setChained(set, fn, ms),
    clearTimeout: (handle) => clearChained(clear, handle),
  };
}

/** Marks `clock` as taking any delay already (its timers are built with {@link chainedTimers}). */
export function markOverflowSafe<C extends Clock>(clock: C): C {
  SAFE.add(clock);
  return clock;
}

/**
 * `clock` itself when it takes any delay (tradecron's clocks), else a wrapper (the same one on
 * every call) whose timers wait longer than 2^31-1 ms in links instead of firing at once.
 */
export function overflowSafe(clock: Clock): Clock {
  if (SAFE.has(clock)) return clock;
  let wrapper = wrappers.get(clock);
  if (!wrapper) {
    wrapper = markOverflowSafe({
      now: () => clock.now(),
      ...chainedTimers(
        (fn, ms) => clock.setTimeout(fn, ms),
        (handle) => clock.clearTimeout(handle),
      ),
    });
    wrappers.set(clock, wrapper);
  }
  return wrapper;
}

/**
 * Real time: Date.now and the platform timers, chained past 2^31-1 ms. The timers are unref'd, so
 * they never hold the process by themselves; a started Scheduler holds it on purpose instead
 * (its `keepAlive` option).
 */
export const systemClock: Clock = markOverflowSafe({
  now: () => Date.now(),
  ...chainedTimers(
    (fn, ms) => {
      const t = setTimeout(fn, ms);
      t.unref?.();
      return t;
    },
    (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  ),
});

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  const timers = overflowSafe(clock);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = timers.setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * zod schema of a {@link Clock} option: an object with now, setTimeout and clearTimeout. Parses to
 * the overflow-safe form of the clock ({@link overflowSafe}), so whatever takes a clock through
 * it never sets a timer that fires early.
 */
export const clockSchema = z
  .custom<Clock>(
    (v) =>
      typeof v === "object" &&
      v !== null &&
      typeof (v as Clock).now === "function" &&
      typeof (v as Clock).setTimeout === "function" &&
      typeof (v as Clock).clearTimeout === "function",
    { message: "must be a Clock (now, setTimeout, clearTimeout)" },
  )
  .transform(overflowSafe);
