/** Shared set-up for the scheduler's tests (not exported from the package). */

import { SCHEDULER_EVENT_NAMES } from "../events.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { Storage } from "../storage/storage.js";
import { EventRecorder } from "../testing/events.js";
import { TestClock } from "../testing/test-clock.js";
import { Scheduler, type SchedulerOptions } from "./scheduler.js";

const ALL_EVENTS = SCHEDULER_EVENT_NAMES;

/**
 * A scheduler on a TestClock and MemoryStorage, recording every event. With `stepInMs: 0` unless
 * given: instances sharing a storage here race for every fire at once, which is what these tests
 * of claims, stops and hand-overs exercise (membership.test.ts covers the split of fires).
 */
export function setup(
  options: SchedulerOptions & { start?: string; storage?: Storage; clock?: TestClock } = {},
): { clock: TestClock; storage: Storage; scheduler: Scheduler; events: EventRecorder } {
  const clock = options.clock ?? new TestClock(options.start ?? "2026-01-05T14:30:00Z");
  const storage = options.storage ?? new MemoryStorage();
  const { start: _start, ...rest } = options;
  const scheduler = new Scheduler({ instanceId: "instance-a", stepInMs: 0, ...rest, clock, storage });
  const events = new EventRecorder(scheduler, ALL_EVENTS);
  return { clock, storage, scheduler, events };
}

/** A promise with its resolve function, to hold a handler open until the test releases it. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** ISO string of an epoch-ms instant. */
export const iso = (t: number): string => new Date(t).toISOString();

/**
 * A view of `storage` that can be cut off, as if its process died: after `sever()`, every call
 * through the view rejects, while other instances keep using the storage itself.
 */
export function severable(storage: Storage): { storage: Storage; sever: () => void } {
  let severed = false;
  const view = new Proxy(storage, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "watch") return value;
      return (...args: unknown[]) =>
        severed
          ? Promise.reject(new Error("process is dead"))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return {
    storage: view,
    sever: () => {
      severed = true;
    },
  };
}
