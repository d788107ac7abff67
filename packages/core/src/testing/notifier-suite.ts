/**
 * The notifier conformance suite: the executable contract of {@link Notifier}. Every notifier runs
 * it against its real destination (a local HTTP server, a captured stream). The optional
 * `flush()` and `attach()` are tested when the notifier has them:
 *
 * ```ts
 * import { describe, it } from "vitest";
 * import { notifierConformance } from "@tradecron/core/testing";
 * notifierConformance({ describe, it }, async () => {
 *   const server = await startCapturingServer();
 *   return {
 *     notifier: new MyNotifier({ url: server.url }),
 *     received: () => server.bodies().map((b) => JSON.parse(b)),
 *     breakTarget: () => server.failEverything(),
 *     cleanup: () => server.close(),
 *   };
 * });
 * ```
 *
 * Assertions use node:assert, so the suite works with any test runner that has describe/it.
 */

import assert from "node:assert/strict";
import { TradecronError, ValidationError } from "../errors.js";
import type { Notification, Notifier } from "../notify/notifier.js";
import type { SuiteTestApi } from "./storage-suite.js";

/** A notifier on a fresh destination, and how to see what the destination got. */
export interface NotifierHandle {
  notifier: Notifier;
  /**
   * Everything the destination has received so far, in order, read back as notifications
   * (parse the JSON body, the JSON line, the function's argument...).
   */
  received: () => Promise<Notification[]> | Notification[];
  /**
   * Makes every later delivery fail at the destination (the server answers 500 or is gone, the
   * write throws). Enables the test of delivery failures; keep retries short in the factory.
   */
  breakTarget?: () => Promise<void> | void;
  /** Called after the test. */
  cleanup?: () => Promise<void> | void;
}

/** Options of {@link notifierConformance}. */
export interface NotifierSuiteOptions {
  /** Per-test timeout in ms (default 20,000). */
  timeout?: number;
}

type Factory = () => Promise<NotifierHandle>;

async function withNotifier(factory: Factory, fn: (h: NotifierHandle) => Promise<void>): Promise<void> {
  const handle = await factory();
  try {
    await fn(handle);
  } finally {
    await handle.cleanup?.();
  }
}

/** A complete notification; override any field. */
export function makeNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    subject: "Job rebalance failed after 3 attempts",
    body: "rebalance (fire 2026-01-05T14:30:00.000Z) failed: broker unavailable",
    timestamp: "2026-01-05T14:30:05.123Z",
    severity: "critical",
    kind: "run_failed",
    data: { scheduleId: "rebalance", attempts: 3, error: { code: "BROKER_UNAVAILABLE" }, symbols: ["AAPL"] },
    ...overrides,
  };
}

/** Calls `notify` and fails the test if it throws synchronously instead of returning a promise. */
function callNotify(notifier: Notifier, n: unknown): Promise<void> {
  let result: unknown;
  assert.doesNotThrow(() => {
    result = notifier.notify(n as Notification);
  }, "notify must never throw synchronously");
  assert.ok(
    result instanceof Promise || (result !== null && typeof (result as Promise<void>).then === "function"),
  );
  return result as Promise<void>;
}

/** Registers the notifier conformance tests with the caller's `describe`/`it`. */
export function notifierConformance(
  api: SuiteTestApi,
  factory: Factory,
  options: NotifierSuiteOptions = {},
): void {
  const { describe, it } = api;
  const timeout = options.timeout ?? 20_000;
  const test = (name: string, fn: (h: NotifierHandle) => Promise<void>) =>
    it(name, () => withNotifier(factory, fn), timeout);

  describe("notifier conformance", () => {
    test("has a name", async ({ notifier }) => {
      assert.equal(typeof notifier.name, "string");
      assert.ok(notifier.name.length > 0);
    });

    test("delivers subject, body, timestamp, severity, kind and data exactly", async ({
      notifier,
      received,
    }) => {
      const sent = [
        makeNotification(),
        makeNotification({
          subject: "3 approvals wait — 承認待ち",
          body: 'line one\nline two "quoted" ✓',
          severity: "warning",
          kind: "approvals_requested",
          data: [{ id: "a1", price: "187.31" }, null, true, 0.5, { nested: { deep: [] } }],
        }),
        makeNotification({ severity: "info", kind: "my_app.custom", data: null, body: "" }),
      ];
      for (const n of sent) await callNotify(notifier, n);
      assert.deepEqual(await received(), sent);
    });

    test("delivers notifications in the order they were sent", async ({ notifier, received }) => {
      const subjects = Array.from({ length: 5 }, (_, i) => `message ${i}`);
      for (const subject of subjects) await callNotify(notifier, makeNotification({ subject }));
      assert.deepEqual(
        (await received()).map((n) => n.subject),
        subjects,
      );
    });

    test("rejects a malformed notification with a ValidationError naming the field, delivering nothing", async ({
      notifier,
      received,
    }) => {
      const cases: [string, unknown][] = [
        ["subject", makeNotification({ subject: "" })],
        ["severity", { ...makeNotification(), severity: "fatal" }],
        ["timestamp", makeNotification({ timestamp: "yesterday" })],
        ["data", { ...makeNotification(), data: { when: new Date() } }],
      ];
      for (const [field, n] of cases) {
        await assert.rejects(callNotify(notifier, n), (error: unknown) => {
          assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
          assert.equal(error.field, field);
          return true;
        });
      }
      assert.deepEqual(await received(), []);
    });

    test("flush(), when it has one, resolves with everything sent at the destination", async ({
      notifier,
      received,
    }) => {
      if (typeof notifier.flush !== "function") return; // optional
      const sent = [makeNotification({ subject: "before the flush" })];
      for (const n of sent) await callNotify(notifier, n);
      await notifier.flush();
      assert.deepEqual(await received(), sent);
    });

    test("attach(), when it has one, takes a reporter and does not report what a notify promise carries", async ({
      notifier,
      received,
      breakTarget,
    }) => {
      if (typeof notifier.attach !== "function") return; // optional
      const reported: Error[] = [];
      assert.doesNotThrow(() => notifier.attach?.((error) => reported.push(error)));
      if (breakTarget) {
        await breakTarget();
        await assert.rejects(callNotify(notifier, makeNotification()));
      } else {
        await callNotify(notifier, makeNotification());
        assert.equal((await received()).length, 1);
      }
      await notifier.flush?.();
      assert.deepEqual(reported, [], "a failure the caller already saw is not reported again");
    });

    test("reports a failed delivery as a rejected promise with code NOTIFIER", async ({
      notifier,
      breakTarget,
    }) => {
      if (!breakTarget) return; // the destination cannot be made to fail
      await breakTarget();
      await assert.rejects(callNotify(notifier, makeNotification()), (error: unknown) => {
        assert.ok(error instanceof TradecronError, `expected a TradecronError, got ${String(error)}`);
        assert.equal(error.code, "NOTIFIER");
        return true;
      });
    });
  });
}
