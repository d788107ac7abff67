import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { makeNotification } from "../testing/notifier-suite.js";
import { DiscordNotifier, type DiscordNotifierOptions } from "./discord-notifier.js";
import { DiscordFake, decodeDiscordMessage } from "./fakes/discord-fake.js";
import { conformanceOnFake, fakeHarness } from "./fakes/harness.js";
import { printedForms, thrown, until } from "./fakes/service-fake.js";
import { TRUNCATED } from "./message-layout.js";

conformanceOnFake(
  DiscordFake.start,
  (fake) => new DiscordNotifier({ url: fake.url, rateLimit: false, retry: false }),
);

/** No rate limit unless a test asks (the clock only moves when a test says). */
const harness = fakeHarness(DiscordFake.start, (fake, wiring, options: Partial<DiscordNotifierOptions>) => {
  return new DiscordNotifier({ url: fake.url, ...wiring, rateLimit: false, ...options });
});
const discord = (options: Partial<DiscordNotifierOptions> = {}) => harness.setup(options);

type Embed = {
  title: string;
  description?: string;
  fields?: { name: string; value: string }[];
  footer: { text: string };
};
const embedOf = (m: Record<string, unknown> | undefined) => (m?.embeds as Embed[] | undefined)?.[0];

describe("DiscordNotifier formatting", () => {
  it("sends one embed: severity as its colour, fields for data, the time as the embed's, no mentions", async () => {
    const { fake, notifier } = await discord({
      dashboardUrl: "https://ops.example.com/",
      username: "tradecron",
    });
    await notifier.notify(makeNotification());
    expect(fake.messages[0]).toEqual({
      username: "tradecron",
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: "Job rebalance failed after 3 attempts",
          url: "https://ops.example.com/",
          description: "rebalance \\(fire 2026\\-01\\-05T14:30:00.000Z\\) failed: broker unavailable",
          color: 0xd92d20,
          timestamp: "2026-01-05T14:30:05.123Z",
          fields: [
            { name: "scheduleId", value: "rebalance", inline: true },
            { name: "attempts", value: "`3`", inline: true },
            { name: "error", value: '`{"code":"BROKER_UNAVAILABLE"}`', inline: true },
            { name: "symbols", value: '`["AAPL"]`', inline: true },
          ],
          footer: { text: "🔴 CRITICAL · run_failed" },
        },
      ],
    });
  });

  it("escapes markdown and mentions so a job's text cannot ping @everyone or restyle the message", async () => {
    const { fake, notifier } = await discord();
    const n = makeNotification({
      body: "@everyone **now** <@123> `x` ~~y~~ # big",
      data: { who: "<@&456> || spoiler ||" },
    });
    await notifier.notify(n);
    const embed = embedOf(fake.messages[0]);
    expect(embed?.description).toBe("@everyone \\*\\*now\\*\\* \\<@123\\> \\`x\\` \\~\\~y\\~\\~ \\# big");
    expect(fake.messages[0]?.allowed_mentions).toEqual({ parse: [] });
    expect(fake.notifications()).toEqual([n]);
  });

  it("keeps every part within Discord's embed limits, 6,000 characters in all", async () => {
    const { fake, notifier } = await discord();
    const long = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`field${i}`, "x".repeat(5_000)]));
    await notifier.notify(
      makeNotification({ subject: "s".repeat(1_000), body: "b".repeat(100_000), data: long }),
    );
    await notifier.notify(
      makeNotification({ body: "b".repeat(100_000), data: [{ deep: "d".repeat(10_000) }] }),
    );
    const [a, b] = fake.messages.map(embedOf);
    expect(a?.title).toBe(`${"s".repeat(256 - TRUNCATED.length)}${TRUNCATED}`);
    expect(a?.description?.startsWith(`**${"s".repeat(1_000)}**\n\n`)).toBe(true); // the whole subject
    expect(a?.fields).toHaveLength(20);
    expect(decodeDiscordMessage(fake.messages[0] ?? {}).subject).toBe("s".repeat(1_000));
    expect(b?.description?.length).toBeLessThanOrEqual(4_096);
    expect(b?.description).toMatch(
      /^b+… \[truncated\]\n```json\n\[\n {2}\{\n {4}"deep": "d+… \[truncated\]\n```$/,
    );
    // the fake checked 6,000 in all, 1,024 per value, 4,096 per description (no violations)
  });
});

describe("DiscordNotifier rate limits", () => {
  it("waits the 429 body's retry_after (seconds, more precise than the rounded Retry-After header)", async () => {
    const { fake, clock, tap, notifier } = await discord();
    fake.answerNext(DiscordFake.tooManyRequests(1.5));
    const done = notifier.notify(makeNotification());
    await until(() => notifier.stats().rateLimited === 1, "the 429");
    await clock.advance(1_500);
    await done;
    expect(tap.sends.map((t) => t - (tap.sends[0] ?? 0))).toEqual([0, 1_500]);
    expect(fake.notifications()).toHaveLength(1);
  });

  it("holds the next send when Discord reports the bucket empty, instead of earning a 429", async () => {
    const { fake, clock, tap, notifier } = await discord();
    fake.remaining.push("0");
    await notifier.notify(makeNotification({ subject: "one" }));
    const second = notifier.notify(makeNotification({ subject: "two" }));
    await clock.advance(1_499);
    expect(fake.requests).toHaveLength(1);
    await clock.advance(1);
    await second;
    expect(tap.sends.map((t) => t - (tap.sends[0] ?? 0))).toEqual([0, 1_500]);
  });

  it("sends at most 5 per 2 s by default", async () => {
    const { clock, tap, notifier } = await discord({ rateLimit: undefined, maxDelay: "1m" });
    const all = Array.from({ length: 12 }, (_, i) =>
      notifier.notify(makeNotification({ subject: `m${i}`, timestamp: new Date(clock.now()).toISOString() })),
    );
    for (let i = 0; i < 6; i += 1) {
      await until(() => tap.inflight === 0 && tap.sends.length >= Math.min(12, 5 * (i + 1)), "a burst");
      await clock.advance(2_000);
    }
    await Promise.all(all);
    const t0 = tap.sends[0] ?? 0;
    expect(tap.sends.map((t) => t - t0)).toEqual([
      0, 0, 0, 0, 0, 2_000, 2_000, 2_000, 2_000, 2_000, 4_000, 4_000,
    ]);
  });
});

describe("DiscordNotifier errors and secrets", () => {
  it("names Discord's final answers and does not retry them", async () => {
    const { fake, notifier } = await discord();
    fake.answerNext({
      status: 404,
      headers: { "content-type": "application/json" },
      body: '{"message":"Unknown Webhook","code":10015}',
    });
    await expect(notifier.notify(makeNotification())).rejects.toThrow(
      `notifier discord: POST to ${fake.origin} failed: HTTP 404: Unknown Webhook (code 10015)`,
    );
    expect(fake.requests).toHaveLength(1);
  });

  it("validates its options, naming the field and never quoting the token", () => {
    const bad = (o: object) => () => new DiscordNotifier(o as DiscordNotifierOptions);
    expect(bad({ url: "https://discord.com/channels/1/2" })).toThrow(/url: must be a Discord webhook URL/);
    expect(bad({ url: "https://discord.com/api/webhooks/1/tok", username: "Discord bot" })).toThrow(
      /username/,
    );
    expect(bad({ url: "https://discord.com/api/webhooks/1/tok", dashboardUrl: "javascript:x" })).toThrow(
      /dashboardUrl/,
    );
    expect(bad({ url: "https://discord.com/api/webhooks/1/tok", minSeverity: "high" })).toThrow(
      ValidationError,
    );
  });

  it("never shows the webhook token in errors, their causes, toJSON or inspect", async () => {
    const { fake, notifier } = await discord({ retry: false });
    fake.answerNext({
      status: 401,
      body: JSON.stringify({ message: `Invalid Webhook Token ${fake.token}`, code: 50027 }),
    });
    const httpError = await notifier.notify(makeNotification()).catch((e: unknown) => e);
    await fake.close();
    const networkError = await notifier.notify(makeNotification()).catch((e: unknown) => e);
    const badUrl = thrown(
      () => new DiscordNotifier({ url: `https://discord.com/api/webhooks/x/${fake.token}` }),
    );
    expect(String(httpError)).toContain("Invalid Webhook Token [redacted]");
    for (const text of printedForms([httpError, networkError, badUrl, notifier]))
      expect(text).not.toContain(fake.token);
    expect(notifier.toJSON()).toEqual({
      type: "discord",
      name: "discord",
      destination: `${fake.origin}/api/webhooks/${fake.id}`,
      rateLimit: "unlimited",
    });
    harness.forget(fake);
  });
});
