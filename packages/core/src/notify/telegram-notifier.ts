/**
 * TelegramNotifier: sends each notification to a chat through the Bot API's `sendMessage`
 * (https://core.telegram.org/bots/api#sendmessage) in HTML parse mode (telegram-format.ts).
 *
 * Limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
 * avoid more than one message per second in one chat, and a bot cannot send more than 20
 * messages per minute to one group; past that the API answers 429 with
 * `parameters.retry_after` in seconds (https://core.telegram.org/bots/api#responseparameters).
 * The default policy: 1 per second to a private chat; 1 per second and 20 per minute to a group
 * or channel (a negative chat id or an `@channel`); retry_after honoured.
 */

import { z } from "zod";
import { systemClock } from "../time/clock.js";
import { parseInput } from "../validation.js";
import { ChatNotifier, type ChatNotifierOptions, chatNotifierShape } from "./chat-notifier.js";
import { parseJsonText, postJson, type ServiceErrorInfo } from "./http-delivery.js";
import { dashboardUrlSchema } from "./message-layout.js";
import { type Notification, NotifierError, parseNotification } from "./notifier.js";
import type { PolicyDefaults } from "./notify-policy.js";
import { Secret, safeOrigin } from "./secret.js";
import { telegramText } from "./telegram-format.js";

/** Options of {@link TelegramNotifier}. */
export interface TelegramNotifierOptions extends ChatNotifierOptions {
  /** The bot's token from @BotFather (`123456789:AA…`): a secret. */
  botToken: string;
  /** The chat: a user or group id (groups are negative), or `@channelusername`. */
  chatId: number | string;
  /** A forum topic of the group (`message_thread_id`). */
  threadId?: number;
  /** Deliver silently (no sound). */
  disableNotification?: boolean;
  /** The Bot API server (default `https://api.telegram.org`; a self-hosted one, or a test fake). */
  apiBase?: string;
}

/** Telegram's published limits for a private chat. */
export const TELEGRAM_PRIVATE_DEFAULTS: PolicyDefaults = {
  rateLimit: [{ limit: 1, interval: "1s" }],
  retry: { attempts: 3 },
};

/** Telegram's published limits for a group or channel. */
export const TELEGRAM_GROUP_DEFAULTS: PolicyDefaults = {
  rateLimit: [
    { limit: 1, interval: "1s" },
    { limit: 20, interval: "1m" },
  ],
  retry: { attempts: 3 },
};

/** zod schema of {@link TelegramNotifierOptions}. */
export const telegramNotifierOptionsSchema = z.strictObject({
  botToken: z
    .string()
    .trim()
    .regex(/^\d{3,20}:[A-Za-z0-9_-]{20,100}$/, "must look like 123456789:AA… (the token from @BotFather)"),
  chatId: z.union([
    z.int().refine((n) => n !== 0, "must not be 0"),
    z
      .string()
      .trim()
      .regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/, "must be a chat id or @channelusername"),
  ]),
  threadId: z.int().min(1).optional(),
  disableNotification: z.boolean().optional(),
  apiBase: dashboardUrlSchema.default("https://api.telegram.org"),
  ...chatNotifierShape("telegram"),
});

/** True for a group, supergroup or channel: their ids are negative, channels may go by @name. */
export function isGroupChat(chatId: number | string): boolean {
  return typeof chatId === "number" ? chatId < 0 : chatId.startsWith("-") || chatId.startsWith("@");
}

/** Reads the Bot API's error JSON: `description`, `parameters.retry_after`, `parameters.migrate_to_chat_id`. */
export function describeTelegramError(_status: number, text: string): ServiceErrorInfo {
  const body = parseJsonText(text) as {
    description?: unknown;
    parameters?: { retry_after?: unknown; migrate_to_chat_id?: unknown };
  } | null;
  if (!body || typeof body !== "object") return {};
  const info: ServiceErrorInfo = {};
  if (typeof body.description === "string") info.description = body.description;
  const migrated = body.parameters?.migrate_to_chat_id;
  if (typeof migrated === "number") {
    info.description = `${info.description ?? "chat migrated"} (the group is now the supergroup ${migrated}: set chatId to it)`;
  }
  const wait = body.parameters?.retry_after;
  if (typeof wait === "number" && wait > 0) info.retryAfterMs = Math.ceil(wait * 1000);
  return info;
}

/** Sends notifications to a Telegram chat through a bot. */
export class TelegramNotifier extends ChatNotifier {
  /** @throws ValidationError naming the bad option (never quoting the token). */
  constructor(options: TelegramNotifierOptions) {
    const o = parseInput(telegramNotifierOptionsSchema, options, "TelegramNotifier");
    const token = new Secret(o.botToken);
    const base = o.apiBase.replace(/\/+$/, "");
    const chatId = typeof o.chatId === "string" && /^-?\d+$/.test(o.chatId) ? Number(o.chatId) : o.chatId;
    const clock = o.clock ?? systemClock;
    const fetchFn = o.fetch ?? fetch;
    const send = async (notification: Notification) => {
      const n = parseNotification(notification, `notifier ${o.name}`);
      const answer = await postJson({
        url: `${base}/bot${token.reveal()}/sendMessage`,
        body: {
          chat_id: chatId,
          text: telegramText(n, o.dashboardUrl ?? null),
          parse_mode: "HTML",
          link_preview_options: { is_disabled: true },
          ...(o.threadId === undefined ? {} : { message_thread_id: o.threadId }),
          ...(o.disableNotification ? { disable_notification: true } : {}),
        },
        timeoutMs: o.timeout,
        clock,
        fetch: fetchFn,
        secrets: [token],
        notifier: o.name,
        describeError: describeTelegramError,
      });
      const body = parseJsonText(answer.text) as { ok?: unknown } | null;
      if (body?.ok !== true) {
        throw new NotifierError(
          `notifier ${o.name}: the Bot API answered ${answer.status} without ok: true`,
          {
            details: { notifier: o.name, status: answer.status },
          },
        );
      }
    };
    const defaults = isGroupChat(chatId) ? TELEGRAM_GROUP_DEFAULTS : TELEGRAM_PRIVATE_DEFAULTS;
    super(
      "telegram",
      { name: o.name, notify: send },
      { ...o, clock },
      defaults,
      `${safeOrigin(base)} chat ${chatId}`,
    );
  }
}
