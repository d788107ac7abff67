import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ValidationError } from "../errors.js";
import { makeNotification } from "../testing/notifier-suite.js";
import { DiscordNotifier } from "./discord-notifier.js";
import { printedForms } from "./fakes/service-fake.js";
import { SlackFake } from "./fakes/slack-fake.js";
import type { Notifier } from "./notifier.js";
import {
  CORE_NOTIFIER_TYPES,
  type NotifierType,
  notifierConfigSchema,
  notifierConfigSchemaFor,
  notifierFromConfig,
  notifiersFromConfig,
} from "./notifier-config.js";
import { PolicyNotifier } from "./notify-policy.js";
import { SlackNotifier } from "./slack-notifier.js";
import { TelegramNotifier } from "./telegram-notifier.js";

const TOKEN = "123456789:AAbbccddeeffgghhiijjkkllmmnnoopp";

describe("notifierFromConfig", () => {
  it("builds each core type, reading secrets from the documented environment variables", () => {
    const env = {
      TRADECRON_SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T1/B1/secret1",
      TRADECRON_DISCORD_WEBHOOK_URL: "https://discord.com/api/webhooks/123/secret2",
      TRADECRON_TELEGRAM_BOT_TOKEN: TOKEN,
      TRADECRON_WEBHOOK_URL: "https://example.com/hook?token=secret3",
      HOOK_SIGNING: "secret4-signing-key",
    };
    const built = notifiersFromConfig(
      [
        { type: "slack", minSeverity: "warning" },
        { type: "discord", username: "tradecron", rateLimit: { limit: 2, interval: "2s" } },
        { type: "telegram", chatId: -1001234567890 },
        { type: "webhook", secret: { env: "HOOK_SIGNING" } },
        { type: "webhook", rateLimit: { limit: 10, interval: "1m" }, name: "ops-hook" },
        { type: "console", format: "json" },
      ],
      { env, dashboardUrl: "https://ops.example.com" },
    );
    expect(built.map((n) => n.constructor)).toEqual([
      SlackNotifier,
      DiscordNotifier,
      TelegramNotifier,
      PolicyNotifier,
      PolicyNotifier,
      PolicyNotifier,
    ]);
    expect((built[1] as DiscordNotifier).rateLimitDescription).toBe("2 per 2 s");
    expect((built[2] as TelegramNotifier).rateLimitDescription).toBe("1 per 1 s, 20 per 60 s");
    expect(built[4]?.name).toBe("ops-hook");
    for (const text of printedForms(built)) expect(text).not.toMatch(/secret[1-4]|AAbbcc/);
  });

  it("applies the entry's filters and the host's dashboard link to what it sends", async () => {
    const fake = await SlackFake.start();
    try {
      const slack = notifierFromConfig(
        { type: "slack", url: { env: "MY_SLACK" }, kinds: ["paused_all"], rateLimit: false },
        { env: { MY_SLACK: fake.url }, dashboardUrl: "https://ops.example.com/" },
      );
      await slack.notify(makeNotification({ kind: "run_failed" }));
      await slack.notify(makeNotification({ kind: "paused_all" }));
      expect(fake.notifications().map((n) => n.kind)).toEqual(["paused_all"]);
      expect(JSON.stringify(fake.messages[0])).toContain("<https://ops.example.com/|Open the dashboard>");
    } finally {
      await fake.close();
    }
  });

  it("names the field at fault, with the entry's place in the list, and never the secret", () => {
    const fail = (entries: unknown[], env: Record<string, string> = {}) => {
      try {
        notifiersFromConfig(entries, { env });
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return e as ValidationError;
      }
      throw new Error("expected a ValidationError");
    };
    expect(fail([{ type: "pager" }]).field).toBe("notifiers.0.type");
    expect(fail([{ type: "slack", url: "https://x.example/h" }, { type: "slack" }]).message).toBe(
      "notifierFromConfig: notifiers.1.url: environment variable TRADECRON_SLACK_WEBHOOK_URL is not set (give the field, or set it)",
    );
    expect(fail([{ type: "discord", url: { env: "DISCORD_HOOK" } }]).message).toMatch(
      /notifiers\.0\.url: environment variable DISCORD_HOOK is not set$/,
    );
    expect(fail([{ type: "telegram", chatId: "general", botToken: TOKEN }]).field).toBe("notifiers.0.chatId");
    expect(fail([{ type: "slack", url: "https://x.example/h", minSeverity: "loud" }]).field).toBe(
      "notifiers.0.minSeverity",
    );
    expect(fail([{ type: "slack", url: "https://x.example/h", colour: "red" }]).message).toMatch(/colour/);
    const leaked = fail([{ type: "discord", url: { env: "D" } }], {
      D: "https://discord.com/api/nothooks/1/supersecret",
    });
    expect(leaked.field).toBe("notifiers.0.url");
    expect(`${leaked.message} ${JSON.stringify(leaked)}`).not.toContain("supersecret");
  });

  it("combines with types from other packages into one schema", () => {
    const pager: NotifierType = {
      type: "pager",
      schema: z.strictObject({ type: z.literal("pager"), to: z.string() }),
      create: (c): Notifier => ({ name: `pager:${String(c.to)}`, notify: async () => {} }),
    };
    const types = [...CORE_NOTIFIER_TYPES, pager];
    expect(notifierFromConfig({ type: "pager", to: "ops" }, { types }).name).toBe("pager:ops");
    expect(notifierConfigSchemaFor(types).safeParse({ type: "pager", to: "ops" }).success).toBe(true);
    expect(notifierConfigSchema.safeParse({ type: "pager", to: "ops" }).success).toBe(false);
  });
});
