import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { makeNotification, notifierConformance } from "../testing/notifier-suite.js";
import { TestClock } from "../testing/test-clock.js";
import type { Notification } from "./notifier.js";
import { NotifierError } from "./notifier.js";
import { NotifierHub } from "./notifier-hub.js";
import { TestServer } from "./test-server.js";
import {
  parseRetryAfter,
  WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookRetry,
} from "./webhook-notifier.js";
import { signWebhookPayload, verifyWebhookSignature } from "./webhook-signature.js";

notifierConformance({ describe, it }, async () => {
  const server = await TestServer.start();
  return {
    notifier: new WebhookNotifier({ url: `${server.url}/hook`, secret: "s3cret", attempts: 1 }),
    received: () => server.bodies() as Notification[],
    breakTarget: () => server.respond(() => ({ status: 500 })),
    cleanup: () => server.close(),
  };
});

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(): Promise<TestServer> {
  const server = await TestServer.start();
  servers.push(server);
  return server;
}

/**
 * Runs a notify to its end on a TestClock: each time the notifier announces a backoff wait, moves
 * the clock by exactly that wait. Event-driven: nothing sleeps.
 */
function withRetries(options: Omit<WebhookNotifierOptions, "clock" | "onRetry">) {
  const clock = new TestClock("2026-01-05T14:30:00Z");
  const retries: WebhookRetry[] = [];
  let wake: (() => void) | null = null;
  const notifier = new WebhookNotifier({
    ...options,
    clock,
    onRetry: (r) => {
      retries.push(r);
      wake?.();
    },
  });
  async function run(promise: Promise<void>): Promise<void> {
    let settled = false;
    const done = promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    let handled = 0;
    while (!settled) {
      if (handled < retries.length) {
        await clock.advance((retries[handled] as WebhookRetry).delayMs);
        handled++;
        continue;
      }
      await Promise.race([done, new Promise<void>((resolve) => (wake = resolve))]);
    }
    return promise;
  }
  return { clock, notifier, retries, run };
}

describe("WebhookNotifier", () => {
  it("POSTs the notification as JSON with the content type and the caller's headers", async () => {
    const server = await serve();
    const notifier = new WebhookNotifier({
      url: `${server.url}/alerts?team=ops`,
      headers: { authorization: "Bearer t" },
    });
    const n = makeNotification();
    await notifier.notify(n);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/alerts?team=ops");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers.authorization).toBe("Bearer t");
    expect(request?.headers["x-tradecron-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.headers["x-tradecron-signature"]).toBeUndefined();
    expect(JSON.parse(request?.body ?? "")).toEqual({
      subject: n.subject,
      body: n.body,
      timestamp: n.timestamp,
      severity: n.severity,
      kind: n.kind,
      data: n.data,
    });
  });

  it("signs HMAC-SHA256 over the timestamp, a dot and the raw body when a secret is set", async () => {
    const server = await serve();
    const clock = new TestClock("2026-01-05T14:30:00.750Z");
    await new WebhookNotifier({ url: server.url, secret: "whsec_test", clock }).notify(makeNotification());
    const [request] = server.requests;
    const timestamp = request?.headers["x-tradecron-timestamp"] as string;
    const signature = request?.headers["x-tradecron-signature"] as string;
    const rawBody = request?.body ?? "";
    expect(timestamp).toBe(String(Date.parse("2026-01-05T14:30:00Z") / 1000));
    const expected = createHmac("sha256", "whsec_test").update(`${timestamp}.${rawBody}`).digest("hex");
    expect(signature).toBe(`sha256=${expected}`);

    const now = clock.now();
    const check = { secret: "whsec_test", rawBody, timestamp, signature, now };
    expect(verifyWebhookSignature(check)).toBe(true);
    expect(verifyWebhookSignature({ ...check, rawBody: rawBody.replace("critical", "info") })).toBe(false);
    expect(verifyWebhookSignature({ ...check, secret: "other" })).toBe(false);
    expect(verifyWebhookSignature({ ...check, now: now + 5 * 60_000 + 1_000 })).toBe(false);
    expect(verifyWebhookSignature({ ...check, signature: undefined })).toBe(false);
    expect(signWebhookPayload("whsec_test", timestamp, rawBody)).toBe(signature);
  });

  it("retries a 500 with exponential backoff on the injected clock, then succeeds with the same delivery id", async () => {
    const server = await serve();
    server.respond((_, i) => (i < 2 ? { status: 500 } : { status: 200 }));
    const { notifier, retries, run } = withRetries({
      url: server.url,
      secret: "k",
      attempts: 4,
      backoff: { baseMs: 1_000, factor: 2, maxMs: 60_000 },
    });
    await run(notifier.notify(makeNotification()));
    expect(server.requests).toHaveLength(3);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.error.details?.status])).toEqual([
      [1, 1_000, 500],
      [2, 2_000, 500],
    ]);
    const deliveries = new Set(server.requests.map((r) => r.headers["x-tradecron-delivery"]));
    expect(deliveries.size).toBe(1);
    // Each attempt is signed afresh, at its own time.
    const stamps = server.requests.map((r) => Number(r.headers["x-tradecron-timestamp"]));
    const start = Date.parse("2026-01-05T14:30:00Z") / 1000;
    expect(stamps).toEqual([start, start + 1, start + 3]);
  });

  it("gives up after the configured attempts with a NotifierError naming status and attempts", async () => {
    const server = await serve();
    server.respond(() => ({ status: 503 }));
    const { notifier, retries, run } = withRetries({
      url: `${server.url}/secret-token-in-path`,
      attempts: 3,
      backoff: { baseMs: 100, factor: 3, maxMs: 250 },
    });
    const error = await run(notifier.notify(makeNotification())).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotifierError);
    const e = error as NotifierError;
    expect(e.code).toBe("NOTIFIER");
    expect(e.message).toMatch(/failed \(gave up after 3 attempts\): HTTP 503$/);
    expect(e.message).not.toMatch(/secret-token/);
    expect(e.details).toMatchObject({ notifier: "webhook", attempts: 3, status: 503 });
    expect(server.requests).toHaveLength(3);
    expect(retries.map((r) => r.delayMs)).toEqual([100, 250]);
  });

  it("honours Retry-After on 429, in seconds or as an HTTP date", async () => {
    const server = await serve();
    server.respond((_, i) =>
      i === 0
        ? { status: 429, headers: { "retry-after": "7" } }
        : i === 1
          ? {
              status: 429,
              headers: { "retry-after": new Date(Date.parse("2026-01-05T14:30:07Z") + 20_000).toUTCString() },
            }
          : { status: 202 },
    );
    const { notifier, retries, run } = withRetries({ url: server.url, attempts: 3 });
    await run(notifier.notify(makeNotification()));
    expect(retries.map((r) => r.delayMs)).toEqual([7_000, 20_000]);
    expect(parseRetryAfter("soon", 0)).toBe(0);
    expect(parseRetryAfter("999999", 0)).toBe(300_000);
  });

  it("does not retry other 4xx answers", async () => {
    const server = await serve();
    server.respond(() => ({ status: 401 }));
    const { notifier, retries } = withRetries({ url: server.url, attempts: 5 });
    await expect(notifier.notify(makeNotification())).rejects.toThrow(/failed \(not retried\): HTTP 401/);
    expect(server.requests).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it("retries network errors", async () => {
    const gone = await TestServer.start();
    const url = gone.url;
    await gone.close();
    const { notifier, retries, run } = withRetries({ url, attempts: 2, backoff: { baseMs: 10 } });
    const error = await run(notifier.notify(makeNotification())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotifierError);
    expect((error as Error).message).toMatch(
      /\(gave up after 2 attempts\): network error: fetch failed \(ECONNREFUSED\)$/,
    );
    expect(retries).toHaveLength(1);
  });

  it("times out a request that gets no answer, on the injected clock", async () => {
    const server = await serve();
    server.respond(() => "hang");
    const clock = new TestClock();
    const notifier = new WebhookNotifier({ url: server.url, timeout: "5s", attempts: 1, clock });
    const result = notifier.notify(makeNotification()).catch((e: unknown) => e);
    await server.received(1);
    await clock.advance(4_999);
    await clock.advance(1);
    const error = await result;
    expect(error).toBeInstanceOf(NotifierError);
    expect((error as Error).message).toMatch(/no answer within 5000 ms/);
  });

  it("never shows its URL token or signing secret when stringified or inspected", () => {
    const notifier = new WebhookNotifier({
      url: "https://hooks.example.test/services/T0KEN-in-the-path?sig=query-t0ken",
      secret: "s3cret-signing-key",
    });
    const shown = [
      JSON.stringify(notifier),
      inspect(notifier, { showHidden: true, depth: 10 }),
      String(notifier),
    ];
    for (const text of shown) {
      expect(text).not.toContain("T0KEN-in-the-path");
      expect(text).not.toContain("query-t0ken");
      expect(text).not.toContain("s3cret-signing-key");
    }
  });

  it("validates its options, naming the field", () => {
    const bad = (o: object) => () => new WebhookNotifier(o as WebhookNotifierOptions);
    expect(bad({ url: "ftp://example.com" })).toThrow(ValidationError);
    expect(bad({ url: "ftp://example.com" })).toThrow(/url: must be an http or https URL/);
    expect(bad({ url: "not a url" })).toThrow(/url/);
    expect(bad({ url: "https://example.com", attempts: 0 })).toThrow(/attempts/);
    expect(bad({ url: "https://example.com", timeout: "soon" })).toThrow(/timeout/);
    expect(bad({ url: "https://example.com", headers: { "bad header": "x" } })).toThrow(/headers/);
    expect(bad({ url: "https://example.com", secret: "" })).toThrow(/secret/);
  });

  it("rejects a malformed notification without sending it", async () => {
    const server = await serve();
    const notifier = new WebhookNotifier({ url: server.url });
    await expect(notifier.notify({ ...makeNotification(), severity: "loud" } as never)).rejects.toThrow(
      ValidationError,
    );
    expect(server.requests).toEqual([]);
  });
});

describe("NotifierHub with a hanging webhook", () => {
  it("returns to its caller at once while the server hangs, and reports the timeout later", async () => {
    const server = await serve();
    server.respond(() => "hang");
    const clock = new TestClock();
    const errors: string[] = [];
    const delivered: string[] = [];
    const hub = new NotifierHub({
      clock,
      notifiers: [
        new WebhookNotifier({ url: server.url, timeout: 10_000, attempts: 1, clock }),
        { name: "memory", notify: async (n) => void delivered.push(n.subject) },
      ],
      onError: (e, ctx) => errors.push(`${ctx.notifier}: ${e.message}`),
    });
    const started = performance.now();
    const returned = hub.notify({
      subject: "broker down",
      kind: "broker_disconnected",
      severity: "critical",
    });
    const elapsed = performance.now() - started;
    expect(returned).toBeUndefined();
    expect(elapsed).toBeLessThan(50);
    await server.received(1); // the webhook is now hanging...
    expect(hub.pending).toBe(1);
    expect(delivered).toEqual(["broker down"]); // ...and the other notifier was not held up
    await clock.advance(10_000);
    await hub.flush();
    expect(hub.pending).toBe(0);
    expect(errors).toEqual([expect.stringMatching(/^webhook: .*no answer within 10000 ms$/)]);
  });
});
