import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { makeNotification, notifierConformance } from "../testing/notifier-suite.js";
import { TestClock } from "../testing/test-clock.js";
import { FunctionNotifier } from "./function-notifier.js";
import { SUMMARY_KIND } from "./notification-summary.js";
import { type Notification, type Notifier, NotifierError } from "./notifier.js";
import { NotifierHub } from "./notifier-hub.js";
import { type NotifyPolicyOptions, withPolicy } from "./notify-policy.js";
import { TestServer } from "./test-server.js";
import { WebhookNotifier } from "./webhook-notifier.js";

notifierConformance({ describe, it }, async () => {
  const got: Notification[] = [];
  let broken = false;
  return {
    notifier: withPolicy(
      new FunctionNotifier(async (n) => {
        if (broken) throw new NotifierError("down", { retryable: true });
        got.push(n);
      }),
      { retry: { attempts: 2, baseMs: 0 }, minSeverity: "info" },
    ),
    received: () => got,
    breakTarget: () => {
      broken = true;
    },
  };
});

// The same policy over the signed webhook, on a real HTTP server.
notifierConformance({ describe, it }, async () => {
  const server = await TestServer.start();
  return {
    notifier: withPolicy(new WebhookNotifier({ url: server.url, attempts: 1 }), {
      retry: { attempts: 2, baseMs: 0 },
    }),
    received: () => server.bodies() as Notification[],
    breakTarget: () => server.respond(() => ({ status: 503 })),
    cleanup: () => server.close(),
  };
});

/** A destination that records when (on the clock) each notification arrived, and can fail on cue. */
function destination(clock: TestClock) {
  const got: { at: number; n: Notification }[] = [];
  const failures: (NotifierError | null)[] = [];
  const notifier: Notifier = {
    name: "dest",
    notify: async (n) => {
      const failure = failures.shift();
      if (failure) throw failure;
      got.push({ at: clock.now(), n });
    },
  };
  return { notifier, got, failures };
}

function setup(options: NotifyPolicyOptions = {}) {
  const clock = new TestClock("2026-01-05T14:30:00Z");
  const dest = destination(clock);
  const errors: NotifierError[] = [];
  const policy = withPolicy(dest.notifier, { clock, onError: (e) => errors.push(e), ...options });
  const t0 = clock.now();
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  return { clock, dest, policy, errors, t0, at };
}

describe("withPolicy filters", () => {
  it("delivers only the kinds asked for, at or above the minimum severity, and counts the rest", async () => {
    const { dest, policy } = setup({
      kinds: ["run_failed", "paused_all"],
      excludeKinds: ["paused_all"],
      minSeverity: "warning",
    });
    await policy.notify(makeNotification({ kind: "run_failed", severity: "critical", subject: "a" }));
    await policy.notify(makeNotification({ kind: "run_failed", severity: "info", subject: "b" }));
    await policy.notify(makeNotification({ kind: "paused_all", severity: "critical", subject: "c" }));
    await policy.notify(
      makeNotification({ kind: "approvals_requested", severity: "critical", subject: "d" }),
    );
    await policy.notify(makeNotification({ kind: "run_failed", severity: "warning", subject: "e" }));
    expect(dest.got.map((g) => g.n.subject)).toEqual(["a", "e"]);
    expect(policy.stats()).toMatchObject({ received: 5, filtered: 3, sent: 2 });
  });

  it("refuses bad options naming the field, misspelt keys included", () => {
    const n = new FunctionNotifier(() => {});
    expect(() => withPolicy(n, { minSeverity: "loud" as never })).toThrow(/minSeverity/);
    expect(() => withPolicy(n, { rateLimit: { limit: 0, interval: "1s" } })).toThrow(/rateLimit\.0\.limit/);
    expect(() => withPolicy(n, { rateLimit: { limit: 1, interval: "soon" } })).toThrow(
      /rateLimit\.0\.interval/,
    );
    expect(() => withPolicy(n, { retry: { attempts: 0 } })).toThrow(/retry.attempts/);
    expect(() => withPolicy(n, { minSeverty: "warning" } as never)).toThrow(ValidationError);
    expect(() => withPolicy({} as never)).toThrow(/notifier: must be a Notifier/);
  });
});

describe("withPolicy rate limit", () => {
  it("spaces deliveries by the limit, delaying those that can wait", async () => {
    const { clock, dest, policy, at } = setup({ rateLimit: { limit: 1, interval: "1s" } });
    const done = [0, 1, 2].map((i) =>
      policy.notify(makeNotification({ subject: `m${i}`, timestamp: at(0) })),
    );
    await clock.advance(2_000);
    await Promise.all(done);
    expect(dest.got.map((g) => g.at - clock.now() + 2_000)).toEqual([0, 1_000, 2_000]);
    expect(policy.stats()).toMatchObject({ sent: 3, delayed: 2, coalesced: 0 });
  });

  it("holds several windows at once (Telegram group: 1 per second and 20 per minute)", async () => {
    const { clock, dest, policy, t0 } = setup({
      rateLimit: [
        { limit: 1, interval: "1s" },
        { limit: 20, interval: "1m" },
      ],
      maxDelay: "10m",
    });
    const done = Array.from({ length: 25 }, (_, i) =>
      policy.notify(makeNotification({ subject: `m${i}`, timestamp: new Date(t0).toISOString() })),
    );
    await clock.advance(120_000);
    await Promise.all(done);
    const times = dest.got.map((g) => g.at - t0);
    expect(times.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i * 1_000));
    expect(times.slice(20)).toEqual([60_000, 61_000, 62_000, 63_000, 64_000]);
  });
});

describe("withPolicy storm: 1,000 failures in a minute through the hub", () => {
  it("sends 11 one by one, summarises the other 989 in one message, drops none, and never exceeds 1 per second", async () => {
    const { clock, dest, policy, errors, t0 } = setup({
      rateLimit: { limit: 1, interval: "1s" },
      maxDelay: "10s",
      summaryWindow: "1m",
    });
    const hubErrors: string[] = [];
    const hub = new NotifierHub({ clock, notifiers: [policy], onError: (e) => hubErrors.push(e.message) });
    for (let i = 0; i < 1_000; i += 1) {
      hub.notify({ kind: "run_failed", severity: "critical", subject: `job ${i} failed` });
      if (i === 500) hub.notify({ kind: "paused_all", severity: "critical", subject: "Emergency pause-all" });
      await clock.advance(60);
    }
    await clock.advance(200_000);
    await hub.flush();

    const sent = dest.got.map((g) => ({ t: g.at - t0, subject: g.n.subject }));
    // 0..10 wait at most 10 s for their slot; #11 would wait longer and opens the summary.
    expect(sent.slice(0, 11)).toEqual(
      Array.from({ length: 11 }, (_, i) => ({ t: i * 1_000, subject: `job ${i} failed` })),
    );
    // Another kind is not held back by the storm: the pause goes out on the next free slot.
    expect(sent[11]).toEqual({ t: 30_000, subject: "Emergency pause-all" });
    expect(sent[12]).toEqual({
      t: 70_000,
      subject: "989 more run_failed notifications suppressed in the last minute",
    });
    expect(sent).toHaveLength(13);
    for (let i = 1; i < sent.length; i += 1)
      expect((sent[i]?.t ?? 0) - (sent[i - 1]?.t ?? 0)).toBeGreaterThanOrEqual(1_000);

    const summary = dest.got[12]?.n as Notification;
    expect(summary.kind).toBe(SUMMARY_KIND);
    expect(summary.severity).toBe("critical");
    expect(summary.data).toMatchObject({
      suppressedKind: "run_failed",
      count: 989,
      from: new Date(t0 + 10_000).toISOString(),
      to: new Date(t0 + 70_000).toISOString(),
      bySeverity: { info: 0, warning: 0, critical: 989 },
      first: [11, 12, 13, 14, 15].map((i) => expect.objectContaining({ subject: `job ${i} failed` })),
      last: expect.objectContaining({ subject: "job 999 failed" }),
    });
    expect(summary.body).toContain("• job 11 failed");
    expect(summary.body).toContain("… 983 more not listed\n• job 999 failed");

    expect(policy.stats()).toEqual({
      received: 1_001,
      filtered: 0,
      sent: 12,
      delayed: 10,
      failed: 0,
      coalesced: 989,
      summaries: 1,
      summarized: 989,
      dropped: 0,
      pendingSummary: 0,
      retried: 0,
      rateLimited: 0,
    });
    expect(errors).toEqual([]);
    expect(hubErrors).toEqual([]);
  });

  it("reports the notifications a failed summary covered as dropped, to onError, with their count", async () => {
    const { clock, dest, policy, errors, t0 } = setup({
      rateLimit: { limit: 1, interval: "1s" },
      maxDelay: 0,
      summaryWindow: "10s",
      retry: { attempts: 2, baseMs: 100 },
    });
    for (let i = 0; i < 5; i += 1)
      await policy.notify(makeNotification({ subject: `s${i}`, timestamp: new Date(t0).toISOString() }));
    dest.failures.push(
      new NotifierError("HTTP 500", { retryable: true }),
      new NotifierError("HTTP 500", { retryable: true }),
    );
    await clock.advance(20_000);
    expect(dest.got.map((g) => g.n.subject)).toEqual(["s0"]);
    expect(errors.map((e) => e.message)).toEqual([
      "notifier dest: 4 run_failed notifications held back by the rate limit dropped: their summary could not be delivered: HTTP 500 (gave up after 2 attempts)",
    ]);
    expect(errors[0]?.details).toMatchObject({ dropped: 4, kind: "run_failed" });
    expect(policy.stats()).toMatchObject({ coalesced: 4, dropped: 4, summarized: 0, retried: 1 });
  });

  it("turns background failures into process warnings when no onError is given", async () => {
    const clock = new TestClock();
    const policy = withPolicy(
      {
        name: "dead",
        notify: async (n) => {
          if (n.kind === SUMMARY_KIND) throw new NotifierError("gone");
        },
      },
      { clock, rateLimit: { limit: 1, interval: "1m" }, maxDelay: 0, summaryWindow: "1s" },
    );
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    for (let i = 0; i < 3; i += 1)
      await policy.notify(makeNotification({ timestamp: new Date(clock.now()).toISOString() }));
    await clock.advance(61_000);
    const warning = await warned;
    expect((warning as Error & { code?: string }).code).toBe("TRADECRON_NOTIFIER");
    expect(warning.message).toMatch(/notifier dead: 2 run_failed notifications .* dropped/);
  });

  it("delivers a summary of one as the notification itself, and flush() sends pending summaries now", async () => {
    const { clock, dest, policy, t0 } = setup({ rateLimit: { limit: 1, interval: "1m" }, maxDelay: 0 });
    await policy.notify(makeNotification({ subject: "first", timestamp: new Date(t0).toISOString() }));
    await policy.notify(makeNotification({ subject: "second", timestamp: new Date(t0).toISOString() }));
    await policy.notify(
      makeNotification({ kind: "approval_expired", subject: "a1", timestamp: new Date(t0).toISOString() }),
    );
    await policy.notify(
      makeNotification({ kind: "approval_expired", subject: "a2", timestamp: new Date(t0).toISOString() }),
    );
    expect(policy.stats().pendingSummary).toBe(3);
    const flushed = policy.flush();
    await clock.advance(180_000);
    await flushed;
    expect(dest.got.map((g) => [g.at - t0, g.n.subject])).toEqual([
      [0, "first"],
      [60_000, "second"],
      [120_000, "2 more approval_expired notifications suppressed in the last minute"],
    ]);
    await policy.close();
    await expect(policy.notify(makeNotification())).rejects.toThrow(/closed/);
  });
});

describe("withPolicy retries", () => {
  it("retries retryable failures with backoff on the clock and gives up after the attempts", async () => {
    const { clock, dest, policy, t0 } = setup({ retry: { attempts: 3, baseMs: 1_000, factor: 2 } });
    dest.failures.push(
      new NotifierError("HTTP 502", { retryable: true }),
      new NotifierError("HTTP 503", { retryable: true }),
    );
    const ok = policy.notify(makeNotification({ subject: "eventually" }));
    await clock.advance(3_000);
    await ok;
    expect(dest.got.map((g) => [g.at - t0, g.n.subject])).toEqual([[3_000, "eventually"]]);

    dest.failures.push(
      ...Array.from({ length: 3 }, () => new NotifierError("HTTP 500", { retryable: true })),
    );
    const failed = policy.notify(makeNotification()).catch((e: unknown) => e);
    await clock.advance(3_000);
    expect(((await failed) as Error).message).toBe("HTTP 500 (gave up after 3 attempts)");

    dest.failures.push(new NotifierError("HTTP 400", { retryable: false }));
    await expect(policy.notify(makeNotification())).rejects.toThrow(/^HTTP 400$/);
    expect(policy.stats()).toMatchObject({ sent: 1, failed: 2, retried: 4 });
  });

  it("honours a retry-after for the retry and for every other send meanwhile", async () => {
    const { clock, dest, policy, t0 } = setup({
      retry: { attempts: 3, baseMs: 10 },
      rateLimit: { limit: 5, interval: "2s" },
    });
    dest.failures.push(new NotifierError("HTTP 429", { retryable: true, details: { retryAfterMs: 1_500 } }));
    const first = policy.notify(makeNotification({ subject: "a", timestamp: new Date(t0).toISOString() }));
    const second = policy.notify(makeNotification({ subject: "b", timestamp: new Date(t0).toISOString() }));
    await clock.advance(2_000);
    await Promise.all([first, second]);
    expect(dest.got.map((g) => [g.at - t0, g.n.subject])).toEqual([
      [1_500, "a"],
      [1_500, "b"],
    ]);
    expect(policy.stats()).toMatchObject({ rateLimited: 1, retried: 1 });
  });

  it("fails at once when a retry-after is longer than maxRetryAfter", async () => {
    const { dest, policy } = setup({ retry: { attempts: 5 }, maxRetryAfter: "1m" });
    dest.failures.push(
      new NotifierError("HTTP 429", { retryable: true, details: { retryAfterMs: 3_600_000 } }),
    );
    await expect(policy.notify(makeNotification())).rejects.toThrow(
      "HTTP 429 (asked to wait 3600000 ms, more than maxRetryAfter 60000 ms)",
    );
  });
});
