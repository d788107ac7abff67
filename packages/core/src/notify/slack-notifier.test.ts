import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { makeNotification } from "../testing/notifier-suite.js";
import { conformanceOnFake, fakeHarness } from "./fakes/harness.js";
import { printedForms, settle, thrown, until } from "./fakes/service-fake.js";
import { decodeSlackMessage, SlackFake } from "./fakes/slack-fake.js";
import { TRUNCATED } from "./message-layout.js";
import { NotifierHub } from "./notifier-hub.js";
import { SlackNotifier, type SlackNotifierOptions } from "./slack-notifier.js";

conformanceOnFake(
  SlackFake.start,
  (fake) => new SlackNotifier({ url: fake.url, rateLimit: false, retry: false }),
);

/** No rate limit unless a test asks (the clock only moves when a test says). */
const harness = fakeHarness(SlackFake.start, (fake, wiring, options: Partial<SlackNotifierOptions>) => {
  return new SlackNotifier({ url: fake.url, ...wiring, rateLimit: false, ...options });
});
const slack = (options: Partial<SlackNotifierOptions> = {}) => harness.setup(options);

describe("SlackNotifier formatting", () => {
  it("shows severity as the colour bar and a label, the subject as a header, data as fields, and links the dashboard", async () => {
    const { fake, notifier } = await slack({ dashboardUrl: "https://ops.example.com/tradecron?x=1&y=2" });
    await notifier.notify(makeNotification());
    const [message] = fake.messages;
    expect(message).toEqual({
      text: "🔴 CRITICAL: Job rebalance failed after 3 attempts",
      attachments: [
        {
          color: "#d92d20",
          fallback: "🔴 CRITICAL: Job rebalance failed after 3 attempts",
          blocks: [
            {
              type: "header",
              block_id: "subject",
              text: { type: "plain_text", text: "Job rebalance failed after 3 attempts", emoji: true },
            },
            {
              type: "section",
              block_id: "body",
              text: {
                type: "mrkdwn",
                text: "rebalance (fire 2026-01-05T14:30:00.000Z) failed: broker unavailable",
              },
            },
            {
              type: "section",
              block_id: "fields-0",
              fields: [
                { type: "mrkdwn", text: "*scheduleId*\nrebalance" },
                { type: "mrkdwn", text: "*attempts*\n`3`" },
                { type: "mrkdwn", text: '*error*\n`{"code":"BROKER_UNAVAILABLE"}`' },
                { type: "mrkdwn", text: '*symbols*\n`["AAPL"]`' },
              ],
            },
            {
              type: "context",
              block_id: "meta",
              elements: [
                { type: "mrkdwn", text: "🔴 *CRITICAL* · `run_failed` · 2026-01-05T14:30:05.123Z" },
                {
                  type: "mrkdwn",
                  text: "<https://ops.example.com/tradecron?x=1&amp;y=2|Open the dashboard>",
                },
              ],
            },
          ],
        },
      ],
      unfurl_links: false,
      unfurl_media: false,
    });
  });

  it("escapes mrkdwn so a job's error text cannot ping the channel or forge a link", async () => {
    const { fake, notifier } = await slack();
    const n = makeNotification({
      body: "<!channel> 2 < 3 & <https://evil.example|click me>",
      data: { note: "<@U123>" },
    });
    await notifier.notify(n);
    const body = JSON.stringify(fake.messages[0]);
    expect(body).not.toContain("<!channel>");
    expect(body).toContain("&lt;!channel&gt; 2 &lt; 3 &amp; &lt;https://evil.example|click me&gt;");
    expect(fake.notifications()).toEqual([n]);
  });

  it("cuts long text within Slack's limits and shows a wide or non-object data as a JSON block", async () => {
    const { fake, notifier } = await slack();
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, "v".repeat(200)]));
    const long = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`field${i}`, "x".repeat(5_000)]));
    await notifier.notify(
      makeNotification({ subject: "s".repeat(1_000), body: "é&".repeat(50_000), data: wide }),
    );
    await notifier.notify(makeNotification({ data: long }));
    await notifier.notify(makeNotification({ data: [1, 2, 3] }));
    type Block = { block_id: string; text?: { text: string } };
    const blocks = (fake.messages[0]?.attachments as { blocks: Block[] }[] | undefined)?.[0]?.blocks ?? [];
    const text = (id: string) => blocks.find((x) => x.block_id === id)?.text?.text ?? "";
    expect(text("subject")).toBe(`${"s".repeat(150 - TRUNCATED.length)}${TRUNCATED}`);
    expect(text("full-subject")).toBe("s".repeat(1_000)); // the header is cut at 150; the whole subject follows
    expect(text("body").length).toBeLessThanOrEqual(3_000);
    expect(text("body").endsWith(`&amp;${TRUNCATED}`) || text("body").endsWith(`é${TRUNCATED}`)).toBe(true);
    expect(text("data").startsWith("```{")).toBe(true); // 30 keys: one JSON block, cut within 3,000
    expect(text("data").length).toBeLessThanOrEqual(3_000);
    const [b, c] = fake.messages.slice(1).map((m) => decodeSlackMessage(m));
    expect(Object.keys(b?.data as object)).toHaveLength(20);
    expect(
      Object.values(b?.data as object).every((v: string) => v.endsWith(TRUNCATED) && v.length < 2_000),
    ).toBe(true);
    expect(c?.data).toEqual([1, 2, 3]);
  });
});

describe("SlackNotifier delivery", () => {
  it("honours a 429's Retry-After on the clock before trying again", async () => {
    const { fake, clock, tap, notifier } = await slack();
    fake.answerNext({ status: 429, headers: { "retry-after": "2" }, body: "rate_limited" });
    const done = notifier.notify(makeNotification());
    await until(() => notifier.stats().rateLimited === 1, "the 429");
    await clock.advance(1_999);
    expect(fake.requests).toHaveLength(1);
    await clock.advance(1);
    await done;
    expect(tap.sends.map((t) => t - (tap.sends[0] ?? 0))).toEqual([0, 2_000]);
    expect(fake.notifications()).toHaveLength(1);
  });

  it("retries 5xx with backoff, then reports the last answer", async () => {
    const { fake, clock, notifier } = await slack();
    fake.breakIt();
    const failed = notifier.notify(makeNotification()).catch((e: unknown) => e);
    await until(() => notifier.stats().retried === 1, "the first retry");
    await clock.advance(1_000);
    await until(() => notifier.stats().retried === 2, "the second retry");
    await clock.advance(2_000);
    const error = (await failed) as Error;
    expect(error.message).toBe(
      `notifier slack: POST to ${fake.origin} failed: HTTP 500: internal error (gave up after 3 attempts)`,
    );
    expect(fake.requests).toHaveLength(3);
  });

  it("does not retry Slack's final answers, and names them", async () => {
    const { fake, notifier } = await slack();
    fake.answerNext({ status: 410, headers: { "content-type": "text/plain" }, body: "channel_is_archived" });
    await expect(notifier.notify(makeNotification())).rejects.toThrow(
      `notifier slack: POST to ${fake.origin} failed: HTTP 410: channel_is_archived`,
    );
    expect(fake.requests).toHaveLength(1);
  });
});

describe("SlackNotifier secrets", () => {
  it("never shows the webhook URL's token in errors, their causes, toJSON or inspect", async () => {
    const { fake, notifier } = await slack({ retry: false });
    fake.answerNext({ status: 404, body: `no_service for ${fake.url}` });
    const httpError = (await notifier.notify(makeNotification()).catch((e: unknown) => e)) as Error;
    await fake.close();
    const networkError = (await notifier.notify(makeNotification()).catch((e: unknown) => e)) as Error;
    const badUrl = thrown(
      () => new SlackNotifier({ url: `ftp://hooks.slack.com/services/T/B/${fake.token}` }),
    );
    expect(badUrl).toBeInstanceOf(ValidationError);
    expect(networkError.message).toMatch(/network error: fetch failed \(ECONNREFUSED\)/);
    for (const text of printedForms([httpError, networkError, badUrl, notifier]))
      expect(text).not.toContain(fake.token);
    expect(notifier.toJSON()).toEqual({
      type: "slack",
      name: "slack",
      destination: fake.origin,
      rateLimit: "unlimited",
    });
    harness.forget(fake);
  });
});

describe("SlackNotifier storm: 1,000 failures in a minute through the hub, on the wire", () => {
  it("keeps to 1 message per second and summarises what it could not send, dropping nothing", async () => {
    const { fake, clock, tap, notifier } = await slack({
      rateLimit: { limit: 1, interval: "1s" },
      maxDelay: "10s",
      summaryWindow: "1m",
    });
    const errors: string[] = [];
    const hub = new NotifierHub({ clock, notifiers: [notifier], onError: (e) => errors.push(e.message) });
    const t0 = clock.now();
    for (let i = 0; i < 1_000; i += 1) {
      hub.notify({ kind: "run_failed", severity: "critical", subject: `job ${i} failed`, data: { i } });
      await settle(tap);
      await clock.advance(60);
      await settle(tap);
    }
    for (let s = 0; s < 80; s += 1) {
      await clock.advance(1_000);
      await settle(tap);
    }
    await hub.flush();

    const sends = tap.sends.map((t) => t - t0);
    expect(sends.slice(0, 11)).toEqual(Array.from({ length: 11 }, (_, i) => i * 1_000));
    const got = fake.notifications();
    // The summary opened when #11 was handled: right after #10's request came back. The clock
    // cannot wait for real I/O, so that is the end of the 60 ms step in which #10 went out.
    const opened = Date.parse(String((got[11]?.data as { from?: string } | undefined)?.from)) - t0;
    expect(opened).toBeGreaterThanOrEqual(10_000);
    expect(opened).toBeLessThan(10_060);
    expect(sends.slice(11)).toEqual([opened + 60_000]);
    expect(got.slice(0, 11).map((n) => n.subject)).toEqual(
      Array.from({ length: 11 }, (_, i) => `job ${i} failed`),
    );
    expect(got[11]?.subject).toBe("989 more run_failed notifications suppressed in the last minute");
    expect(got[11]?.data).toMatchObject({
      suppressedKind: "run_failed",
      count: 989,
      reason: "rate limit of notifier slack: 1 per 1 s",
    });
    expect(notifier.stats()).toMatchObject({
      received: 1_000,
      sent: 11,
      coalesced: 989,
      summarized: 989,
      dropped: 0,
      failed: 0,
    });
    expect(errors).toEqual([]);
  });
});
