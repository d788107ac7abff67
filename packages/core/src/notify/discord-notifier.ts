/**
 * DiscordNotifier: executes a Discord webhook (`POST /api/webhooks/{id}/{token}?wait=true`,
 * https://discord.com/developers/docs/resources/webhook#execute-webhook) with one embed per
 * notification (discord-format.ts). `wait=true` makes Discord confirm the message was saved, so a
 * lost message is an error, not a silent 204.
 *
 * Rate limits (https://discord.com/developers/docs/topics/rate-limits): webhooks allow about 5
 * requests per 2 s; every answer carries `X-RateLimit-Remaining` and `X-RateLimit-Reset-After`,
 * and a 429 says how long to wait in its JSON body (`retry_after`, seconds). The default policy
 * sends at most 5 per 2 s, holds when Discord says the bucket is empty, and honours `retry_after`.
 */

import { z } from "zod";
import { systemClock } from "../time/clock.js";
import { parseInput } from "../validation.js";
import { ChatNotifier, type ChatNotifierOptions, chatNotifierShape } from "./chat-notifier.js";
import { discordMessage } from "./discord-format.js";
import { parseJsonText, postJson, type ServiceErrorInfo } from "./http-delivery.js";
import { dashboardUrlSchema, urlSchema } from "./message-layout.js";
import { type Notification, parseNotification } from "./notifier.js";
import type { PolicyDefaults } from "./notify-policy.js";
import { Secret, safeOrigin } from "./secret.js";

/** Options of {@link DiscordNotifier}. */
export interface DiscordNotifierOptions extends ChatNotifierOptions {
  /** The webhook URL (`https://discord.com/api/webhooks/{id}/{token}`): a secret. */
  url: string;
  /** Overrides the webhook's display name (1-80 characters). */
  username?: string;
  /** Overrides the webhook's avatar. */
  avatarUrl?: string;
}

/** Discord's webhook limit, and 3 tries. */
export const DISCORD_DEFAULTS: PolicyDefaults = {
  rateLimit: [{ limit: 5, interval: "2s" }],
  retry: { attempts: 3 },
};

const WEBHOOK_PATH = /^\/api\/(?:v\d+\/)?webhooks\/(\d{1,25})\/([A-Za-z0-9_-]{1,200})\/?$/;

const NOT_A_WEBHOOK = "must be a Discord webhook URL (https://discord.com/api/webhooks/{id}/{token})";
const webhookUrl = urlSchema(["http:", "https:"], NOT_A_WEBHOOK).refine(
  (u) => WEBHOOK_PATH.test(new URL(u).pathname),
  {
    message: NOT_A_WEBHOOK,
  },
);

/** zod schema of {@link DiscordNotifierOptions}. */
export const discordNotifierOptionsSchema = z.strictObject({
  url: webhookUrl,
  // Discord refuses names containing "discord" or "clyde".
  username: z
    .string()
    .trim()
    .min(1)
    .max(80)
    .refine((u) => !/discord|clyde/i.test(u), { message: "must not contain 'discord' or 'clyde'" })
    .optional(),
  avatarUrl: dashboardUrlSchema.optional(),
  ...chatNotifierShape("discord"),
});

/** Reads Discord's error JSON: `{ message, code }`, and `retry_after` (seconds) on a 429. */
export function describeDiscordError(_status: number, text: string): ServiceErrorInfo {
  const body = parseJsonText(text) as { message?: unknown; code?: unknown; retry_after?: unknown } | null;
  if (!body || typeof body !== "object") return {};
  const info: ServiceErrorInfo = {};
  if (typeof body.message === "string") {
    info.description = typeof body.code === "number" ? `${body.message} (code ${body.code})` : body.message;
  }
  if (typeof body.retry_after === "number" && body.retry_after > 0)
    info.retryAfterMs = Math.ceil(body.retry_after * 1000);
  return info;
}

/** Posts notifications to a Discord channel through a webhook. */
export class DiscordNotifier extends ChatNotifier {
  /** @throws ValidationError naming the bad option (never quoting the URL). */
  constructor(options: DiscordNotifierOptions) {
    const o = parseInput(discordNotifierOptionsSchema, options, "DiscordNotifier");
    const url = new URL(o.url);
    url.searchParams.set("wait", "true");
    const [, id = "", token = ""] = WEBHOOK_PATH.exec(url.pathname) ?? [];
    const target = new Secret(url.toString());
    const clock = o.clock ?? systemClock;
    const fetchFn = o.fetch ?? fetch;
    const hints = { hold: (_until: number) => {} };
    const send = async (notification: Notification) => {
      const n = parseNotification(notification, `notifier ${o.name}`);
      const answer = await postJson({
        url: target.reveal(),
        body: discordMessage(n, {
          dashboardUrl: o.dashboardUrl ?? null,
          username: o.username,
          avatarUrl: o.avatarUrl,
        }),
        timeoutMs: o.timeout,
        clock,
        fetch: fetchFn,
        secrets: [target, token],
        notifier: o.name,
        describeError: describeDiscordError,
      });
      // The bucket is empty: wait for its reset rather than earn a 429.
      const remaining = answer.headers.get("x-ratelimit-remaining");
      const resetAfter = Number(answer.headers.get("x-ratelimit-reset-after"));
      if (remaining === "0" && Number.isFinite(resetAfter) && resetAfter > 0) {
        hints.hold(clock.now() + Math.ceil(resetAfter * 1000));
      }
    };
    super(
      "discord",
      { name: o.name, notify: send },
      { ...o, clock },
      DISCORD_DEFAULTS,
      `${safeOrigin(o.url)}/api/webhooks/${id}`,
    );
    hints.hold = (until) => this.hold(until);
  }
}
