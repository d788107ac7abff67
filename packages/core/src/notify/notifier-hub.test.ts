import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import { driveClock } from "../testing/drive-clock.js";
import { TestClock } from "../testing/test-clock.js";
import { SUMMARY_KIND } from "./notification-summary.js";
import type { Notification, Notifier } from "./notifier.js";
import { NotifierError } from "./notifier.js";
import { NotifierHub, type NotifierHubErrorContext } from "./notifier-hub.js";
import { withPolicy } from "./notify-policy.js";

/** A notifier whose deliveries the test completes by hand. */
function gated(name = "gated") {
  const calls: { n: Notification; release: () => void; fail: (e: Error) => void }[] = [];
  const notifier: Notifier = {
    name,
    notify: (n) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ n, release: resolve, fail: reject });
      }),
  };
  return { notifier, calls };
}

function recorder(name = "memory") {
  const got: Notification[] = [];
  const notifier: Notifier = { name, notify: async (n) => void got.push(n) };
  return { notifier, got };
}

function hubWith(notifiers: Notifier[], maxQueue?: number) {
  const errors: { error: Error; context: NotifierHubErrorContext }[] = [];
  const hub = new NotifierHub({
    notifiers,
    clock: new TestClock("2026-01-05T14:30:00Z"),
    onError: (error, context) => errors.push({ error, context }),
    ...(maxQueue === undefined ? {} : { maxQueue }),
  });
  return { hub, errors };
}

describe("NotifierHub", () => {
  it("completes the notification and delivers it to every notifier", async () => {
    const a = recorder("a");
    const b = recorder("b");
    const { hub, errors } = hubWith([a.notifier, b.notifier]);
    hub.notify({ subject: "paused", kind: "paused_all", data: { by: "alice" } });
    await hub.flush();
    const expected = {
      subject: "paused",
      body: "",
      timestamp: "2026-01-05T14:30:00.000Z",
      severity: "info",
      kind: "paused_all",
      data: { by: "alice" },
    };
    expect(a.got).toEqual([expected]);
    expect(b.got).toEqual([expected]);
    expect(errors).toEqual([]);
    expect(hub.names).toEqual(["a", "b"]);
  });

  it("returns before any notifier runs, even one that blocks or throws synchronously", async () => {
    let ran = false;
    const blocking: Notifier = {
      name: "sync-thrower",
      notify: () => {
        ran = true;
        throw new Error("thrown synchronously");
      },
    };
    const { hub, errors } = hubWith([blocking]);
    expect(hub.notify({ subject: "x", kind: "run_failed" })).toBeUndefined();
    expect(ran).toBe(false);
    await hub.flush();
    expect(ran).toBe(true);
    expect(errors.map((e) => [e.context.notifier, e.error.message])).toEqual([
      ["sync-thrower", "thrown synchronously"],
    ]);
  });

  it("delivers to each notifier in order, one at a time, without a slow one holding up the others", async () => {
    const slow = gated("slow");
    const fast = recorder("fast");
    const { hub } = hubWith([slow.notifier, fast.notifier]);
    for (const subject of ["1", "2", "3"]) hub.notify({ subject, kind: "k" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fast.got.map((n) => n.subject)).toEqual(["1", "2", "3"]);
    expect(slow.calls.map((c) => c.n.subject)).toEqual(["1"]);
    expect(hub.pending).toBe(3);
    let flushed = false;
    const flushing = hub.flush().then(() => {
      flushed = true;
    });
    slow.calls[0]?.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(slow.calls.map((c) => c.n.subject)).toEqual(["1", "2"]);
    slow.calls[1]?.fail(new Error("boom"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    slow.calls[2]?.release();
    await flushing;
    expect(hub.pending).toBe(0);
  });

  it("reports delivery failures with the notifier and the notification", async () => {
    const failing: Notifier = {
      name: "broken",
      notify: async () => {
        throw new NotifierError("down");
      },
    };
    const { hub, errors } = hubWith([failing]);
    hub.notify({ subject: "s", kind: "run_failed", severity: "critical" });
    await hub.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBeInstanceOf(NotifierError);
    expect(errors[0]?.context).toMatchObject({
      notifier: "broken",
      notification: { subject: "s", severity: "critical" },
    });
  });

  it("drops the oldest notification of a full queue and says so", async () => {
    const slow = gated("slow");
    const { hub, errors } = hubWith([slow.notifier], 2);
    for (const subject of ["1", "2", "3", "4"]) hub.notify({ subject, kind: "k" });
    // "1" is waiting in the queue (delivery starts after this synchronous code), so "1" and "2" are dropped.
    expect(errors.map((e) => e.error.message)).toEqual([
      "NotifierHub: queue of slow is full (2); dropped '1'",
      "NotifierHub: queue of slow is full (2); dropped '2'",
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    slow.calls[0]?.release();
    await new Promise((resolve) => setImmediate(resolve));
    slow.calls[1]?.release();
    await hub.flush();
    expect(slow.calls.map((c) => c.n.subject)).toEqual(["3", "4"]);
  });

  it("never throws for an invalid notification: it reports a ValidationError instead", async () => {
    const a = recorder();
    const { hub, errors } = hubWith([a.notifier]);
    expect(() => hub.notify({ subject: "", kind: "k" })).not.toThrow();
    expect(() => hub.notify(null as never)).not.toThrow();
    expect(() => hub.notify({ subject: "s", kind: "k", data: { f: () => 1 } as never })).not.toThrow();
    await hub.flush();
    expect(a.got).toEqual([]);
    expect(
      errors.map((e) => [
        e.error instanceof ValidationError,
        e.context.notifier,
        (e.error as ValidationError).field,
      ]),
    ).toEqual([
      [true, "hub", "subject"],
      [true, "hub", undefined],
      [true, "hub", "data"],
    ]);
  });

  it("survives an onError hook that throws", async () => {
    const hub = new NotifierHub({
      notifiers: [{ name: "bad", notify: async () => Promise.reject(new Error("x")) }],
      onError: () => {
        throw new Error("hook bug");
      },
    });
    hub.notify({ subject: "s", kind: "k" });
    await expect(hub.flush()).resolves.toBeUndefined();
  });

  it("keeps explicit timestamps, normalised to UTC", async () => {
    const a = recorder();
    const { hub } = hubWith([a.notifier]);
    hub.notify({ subject: "s", kind: "k", timestamp: "2026-01-05T09:30:00-05:00" });
    hub.notify({ subject: "s", kind: "k", timestamp: Date.parse("2026-01-05T15:00:00Z") });
    await hub.flush();
    expect(a.got.map((n) => n.timestamp)).toEqual(["2026-01-05T14:30:00.000Z", "2026-01-05T15:00:00.000Z"]);
  });

  it("adds and removes notifiers, and refuses notifications after close", async () => {
    const a = recorder("a");
    const b = recorder("b");
    const { hub, errors } = hubWith([a.notifier]);
    const remove = hub.add(b.notifier);
    hub.notify({ subject: "1", kind: "k" });
    remove();
    hub.notify({ subject: "2", kind: "k" });
    await hub.close();
    hub.notify({ subject: "3", kind: "k" });
    await hub.flush();
    expect(a.got.map((n) => n.subject)).toEqual(["1", "2"]);
    expect(b.got.map((n) => n.subject)).toEqual(["1"]);
    expect(errors.map((e) => e.error.message)).toEqual(["NotifierHub: closed; notification not sent"]);
  });

  it("validates its options", () => {
    expect(() => new NotifierHub({ maxQueue: 0 })).toThrow(/maxQueue/);
    expect(() => new NotifierHub({ notifiers: [{ name: "", notify: async () => {} }] })).toThrow(
      /notifiers\.0/,
    );
    expect(() => new NotifierHub().add({} as never)).toThrow(ValidationError);
  });
});

describe("NotifierHub and its notifiers' background work (attach, flush)", () => {
  /** A policy over a destination that records, and fails every storm summary when `failSummaries`. */
  function stormy(
    clock: TestClock,
    options: { failSummaries?: boolean; summaryWindow?: string; interval?: string } = {},
  ) {
    const got: Notification[] = [];
    const policy = withPolicy(
      {
        name: "chat",
        notify: async (n) => {
          if (options.failSummaries && n.kind === SUMMARY_KIND) throw new NotifierError("HTTP 500 from chat");
          got.push(n);
        },
      },
      {
        clock,
        rateLimit: { limit: 1, interval: options.interval ?? "1m" },
        maxDelay: 0,
        summaryWindow: options.summaryWindow ?? "1m",
      },
    );
    return { policy, got };
  }

  it("a storm summary that fails on its timer reaches the hub's onError, with the notifier's name", async () => {
    const clock = new TestClock();
    const { policy, got } = stormy(clock, { failSummaries: true });
    const errors: { error: Error; context: NotifierHubErrorContext }[] = [];
    const hub = new NotifierHub({
      clock,
      notifiers: [policy],
      onError: (error, context) => errors.push({ error, context }),
    });
    let warned = false;
    const onWarning = () => {
      warned = true;
    };
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 4; i += 1) hub.notify({ kind: "run_failed", subject: `job ${i} failed` });
      await clock.advance(120_000); // the summary of the three held back is sent on its timer, and fails
    } finally {
      process.off("warning", onWarning);
    }
    expect(got.map((n) => n.subject)).toEqual(["job 0 failed"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.context.notifier).toBe("chat");
    expect(errors[0]?.context.notification?.kind).toBe(SUMMARY_KIND);
    expect(errors[0]?.error).toMatchObject({ code: "NOTIFIER", details: { dropped: 3, kind: "run_failed" } });
    expect(warned).toBe(false); // reported once, to the hub, not also as a process warning
  });

  it("flush() sends a pending storm summary and waits for it, and close() does too", async () => {
    const clock = new TestClock();
    const { policy, got } = stormy(clock, { summaryWindow: "10m" });
    const hub = new NotifierHub({ clock, notifiers: [policy] });
    for (let i = 0; i < 3; i += 1) hub.notify({ kind: "run_failed", subject: `job ${i} failed` });
    const flushed = hub.flush();
    await clock.advance(60_000); // the summary's send slot, long before its 10-minute window ends
    await flushed;
    expect(got.map((n) => n.subject)).toEqual([
      "job 0 failed",
      expect.stringMatching(/^2 more run_failed notifications suppressed in the last/),
    ]);
    expect(policy.stats().pendingSummary).toBe(0);

    hub.notify({ kind: "approval_expired", subject: "a1" });
    hub.notify({ kind: "approval_expired", subject: "a2" });
    const closed = hub.close();
    await clock.advance(120_000);
    await closed;
    // Both were held back by the rate limit: close() sends their summary instead of dropping it.
    expect(got.map((n) => n.subject).slice(2)).toEqual([
      expect.stringMatching(/^2 more approval_expired notifications suppressed/),
    ]);
  });

  it("bounds a notifier's flush() by the hub's flushTimeout, and reports the one that did not finish", async () => {
    const clock = new TestClock();
    const errors: { error: Error; context: NotifierHubErrorContext }[] = [];
    const hanging: Notifier = { name: "stuck", notify: async () => {}, flush: () => new Promise(() => {}) };
    const hub = new NotifierHub({
      clock,
      notifiers: [hanging],
      flushTimeout: "2s",
      onError: (error, context) => errors.push({ error, context }),
    });
    const flushed = hub.flush();
    await clock.advance(2_000);
    await flushed;
    expect(errors.map((e) => [e.context.notifier, e.error.message])).toEqual([
      ["stuck", "NotifierHub: flush of notifier stuck did not finish within 2000 ms"],
    ]);
    expect(() => new NotifierHub({ flushTimeout: "soon" as never })).toThrow(/flushTimeout/);
  });

  it("scheduler.stop() sends the storm summary a policy still holds", async () => {
    const clock = new TestClock();
    // One message per 2 s (a chat service's pace): the summary's slot comes within stop()'s 5 s for notifications.
    const { policy, got } = stormy(clock, { summaryWindow: "10m", interval: "2s" });
    const scheduler = new Scheduler({ clock, storage: new MemoryStorage(), notifiers: [policy] });
    scheduler.register("boom", () => {
      throw new Error("no data");
    });
    await scheduler.createSchedule({
      id: "boom",
      job: "boom",
      trigger: { every: "1d" },
      retry: { attempts: 1 },
    });
    await scheduler.start();
    // Three run_failed within a second: the first goes out, the other two wait in a summary.
    for (let i = 0; i < 3; i += 1) await scheduler.trigger("boom", { actor: "test" });
    await driveClock(clock, scheduler.stop({ timeoutMs: 120_000 }), { stepMs: 100 });
    expect(got).toHaveLength(2);
    expect(got[0]?.kind).toBe("run_failed");
    expect(got[1]?.subject).toMatch(/^2 more run_failed notifications suppressed in the last/);
  });
});
