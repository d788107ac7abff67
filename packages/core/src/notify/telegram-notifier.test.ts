import { describe, expect, it } from "vitest";
import { makeNotification } from "../testing/notifier-suite.js";
import { conformanceOnFake, fakeHarness } from "./fakes/harness.js";
import { printedForms, thrown, until } from "./fakes/service-fake.js";
import { decodeTelegramText, parseTelegramHtml, TelegramFake } from "./fakes/telegram-fake.js";
import { TRUNCATED } from "./message-layout.js";
import { TelegramNotifier, type TelegramNotifierOptions } from "./telegram-notifier.js";

const CHAT = 424242;
const GROUP = -1001234567890;

const base = (fake: TelegramFake) => ({ botToken: fake.token, chatId: CHAT, apiBase: fake.apiBase });
conformanceOnFake(
  TelegramFake.start,
  (fake) => new TelegramNotifier({ ...base(fake), rateLimit: false, retry: false }),
);

/** No rate limit unless a test asks (the clock only moves when a test says). */
const harness = fakeHarness(
  () => TelegramFake.start([CHAT, GROUP, "@tradecron_alerts"]),
  (fake, wiring, options: Partial<TelegramNotifierOptions>) =>
    new TelegramNotifier({ ...base(fake), ...wiring, rateLimit: false, ...options }),
);
const telegram = (options: Partial<TelegramNotifierOptions> = {}) => harness.setup(options);

describe("TelegramNotifier formatting", () => {
  it("sends HTML: emoji and bold label, bold subject, body, data lines, kind and time, dashboard link", async () => {
    const { fake, notifier } = await telegram({
      dashboardUrl: "https://ops.example.com/?a=1&b=2",
      threadId: 7,
    });
    await notifier.notify(makeNotification());
    expect(fake.messages[0]).toEqual({
      chat_id: CHAT,
      text: [
        "🔴 <b>CRITICAL</b> <b>Job rebalance failed after 3 attempts</b>",
        "",
        "rebalance (fire 2026-01-05T14:30:00.000Z) failed: broker unavailable",
        "",
        "<b>scheduleId</b>: rebalance",
        "<b>attempts</b>: <code>3</code>",
        '<b>error</b>: <code>{"code":"BROKER_UNAVAILABLE"}</code>',
        '<b>symbols</b>: <code>["AAPL"]</code>',
        "",
        "<i>run_failed · 2026-01-05T14:30:05.123Z</i>",
        '<a href="https://ops.example.com/?a=1&amp;b=2">Open the dashboard</a>',
      ].join("\n"),
      parse_mode: "HTML",
      link_preview_options: { is_disabled: true },
      message_thread_id: 7,
    });
  });

  it("escapes <, > and & so a job's text can neither break the HTML nor add a link", async () => {
    const { fake, notifier } = await telegram();
    const n = makeNotification({
      subject: "a < b & c > d",
      body: '<a href="https://evil">x</a> &amp; </b>',
      data: { q: "<i>" },
    });
    await notifier.notify(n);
    expect(String(fake.messages[0]?.text)).toContain(
      '&lt;a href="https://evil"&gt;x&lt;/a&gt; &amp;amp; &lt;/b&gt;',
    );
    expect(fake.notifications()).toEqual([n]);
  });

  it("cuts to 4,096 characters after entity parsing, however many escapes the text needs", async () => {
    const { fake, notifier } = await telegram();
    const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, "<&>".repeat(400)]));
    await notifier.notify(
      makeNotification({ subject: "s".repeat(1_000), body: "&<".repeat(50_000), data: fields }),
    );
    await notifier.notify(makeNotification({ body: "x".repeat(10_000), data: ["y".repeat(10_000)] }));
    for (const m of fake.messages) {
      const parsed = parseTelegramHtml(String(m.text));
      expect("text" in parsed && parsed.text.length).toBeLessThanOrEqual(4_096);
      expect("text" in parsed && parsed.text.length).toBeGreaterThan(3_900);
    }
    const a = decodeTelegramText(String(fake.messages[0]?.text));
    expect(a.subject).toBe("s".repeat(1_000));
    expect(a.body.endsWith(TRUNCATED)).toBe(true);
    expect(Object.keys(a.data as object).length).toBeGreaterThan(0);
    // the second: body and the JSON block both cut (the block to half the room, so it cannot be read back)
    expect(String(fake.messages[1]?.text)).toMatch(
      /^🔴 <b>CRITICAL<\/b>[\s\S]*x… \[truncated\]\n\n<pre><code class="language-json">\[\n {2}"y+… \[truncated\]<\/code><\/pre>/,
    );
  });
});

describe("TelegramNotifier limits and errors", () => {
  it("sends at most 20 a minute to a group by default, 1 per second", async () => {
    const { clock, tap, notifier } = await telegram({ chatId: GROUP, rateLimit: undefined, maxDelay: "5m" });
    expect(notifier.rateLimitDescription).toBe("1 per 1 s, 20 per 60 s");
    const all = Array.from({ length: 22 }, (_, i) =>
      notifier.notify(makeNotification({ subject: `m${i}`, timestamp: new Date(clock.now()).toISOString() })),
    );
    for (let s = 0; s < 62; s += 1) {
      await until(() => tap.inflight === 0, "quiet");
      await clock.advance(1_000);
    }
    await until(() => tap.sends.length === 22, "22 sends");
    await Promise.all(all);
    const t0 = tap.sends[0] ?? 0;
    const times = tap.sends.map((t) => t - t0);
    expect(times.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i * 1_000));
    expect(times.slice(20)).toEqual([60_000, 61_000]);
    const byDefault = new TelegramNotifier({ botToken: "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAA", chatId: 5 });
    expect(byDefault.rateLimitDescription).toBe("1 per 1 s");
  });

  it("waits the 429's parameters.retry_after before trying again", async () => {
    const { fake, clock, tap, notifier } = await telegram();
    fake.answerNext(TelegramFake.tooManyRequests(3));
    const done = notifier.notify(makeNotification());
    await until(() => notifier.stats().rateLimited === 1, "the 429");
    await clock.advance(3_000);
    await done;
    expect(tap.sends.map((t) => t - (tap.sends[0] ?? 0))).toEqual([0, 3_000]);
  });

  it("reports a group upgraded to a supergroup with the new id, and an unknown chat, without retrying", async () => {
    const { fake, notifier } = await telegram();
    fake.answerNext(TelegramFake.migrated(-1009876543210));
    await expect(notifier.notify(makeNotification())).rejects.toThrow(
      "HTTP 400: Bad Request: group chat was upgraded to a supergroup chat (the group is now the supergroup -1009876543210: set chatId to it)",
    );
    const stranger = new TelegramNotifier({
      botToken: fake.token,
      chatId: 99,
      apiBase: fake.apiBase,
      retry: false,
    });
    await expect(stranger.notify(makeNotification())).rejects.toThrow(
      "HTTP 400: Bad Request: chat not found",
    );
    expect(fake.requests).toHaveLength(2);
    fake.violations.splice(0); // the unknown chat was refused on purpose
  });

  it("validates its options, naming the field", () => {
    const bad = (o: object) => () =>
      new TelegramNotifier({ botToken: "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAA", chatId: 1, ...o });
    expect(bad({ botToken: "nope" })).toThrow(/botToken: must look like/);
    expect(bad({ chatId: "general" })).toThrow(/chatId/);
    expect(bad({ chatId: 0 })).toThrow(/chatId/);
    expect(bad({ threadId: -1 })).toThrow(/threadId/);
    expect(bad({ apiBase: "ftp://x" })).toThrow(/apiBase/);
  });

  it("never shows the bot token in errors, their causes, toJSON or inspect", async () => {
    const { fake, notifier } = await telegram({ retry: false });
    fake.answerNext({
      status: 401,
      body: JSON.stringify({ ok: false, error_code: 401, description: `Unauthorized ${fake.token}` }),
    });
    const httpError = await notifier.notify(makeNotification()).catch((e: unknown) => e);
    await fake.close();
    const networkError = await notifier.notify(makeNotification()).catch((e: unknown) => e);
    const badToken = thrown(() => new TelegramNotifier({ botToken: `${fake.token} `.repeat(2), chatId: 1 }));
    expect(String(httpError)).toContain("Unauthorized [redacted]");
    for (const text of printedForms([httpError, networkError, badToken, notifier]))
      expect(text).not.toContain(fake.token);
    expect(notifier.toJSON()).toEqual({
      type: "telegram",
      name: "telegram",
      destination: `${fake.apiBase} chat ${CHAT}`,
      rateLimit: "unlimited",
    });
    harness.forget(fake);
  });
});
