/**
 * A local Discord webhook. It checks what Discord documents for Execute Webhook: POST to
 * `/api/webhooks/{id}/{token}`, JSON with `content` or `embeds`; content within 2,000; at most
 * 10 embeds; title 256, description 4,096, 25 fields (name 1-256, value 1-1,024), footer 2,048,
 * 6,000 characters over all embeds; a colour in 0..0xFFFFFF; an ISO-8601 timestamp; no `type`,
 * `provider` or `video` (not allowed for webhooks); a username without "discord" or "clyde".
 * It answers as Discord does with `?wait=true` (and flags a request without it): the message, rate-limit headers,
 * 400 `Invalid Form Body` (50035), 401 `Invalid Webhook Token` (50027), 404 `Unknown Webhook` (10015).
 */

import { randomBytes } from "node:crypto";
import type { Notification, NotificationSeverity } from "../notifier.js";
import type { ReceivedRequest, Reply } from "../test-server.js";
import { checkJsonPost, isObject, readValue, ServiceFake, startServer } from "./service-fake.js";

const TOP_KEYS = new Set([
  "content",
  "username",
  "avatar_url",
  "tts",
  "embeds",
  "allowed_mentions",
  "components",
  "flags",
  "thread_name",
  "applied_tags",
  "poll",
  "attachments",
]);
const EMBED_KEYS = new Set([
  "title",
  "description",
  "url",
  "timestamp",
  "color",
  "footer",
  "image",
  "thumbnail",
  "author",
  "fields",
]);
const COLORS: Record<number, NotificationSeverity> = {
  3051770: "info",
  16224265: "warning",
  14232864: "critical",
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

function len(v: unknown): number {
  return typeof v === "string" ? v.length : 0;
}

/** Undoes escapeDiscord. */
function unescapeDiscord(text: string): string {
  return text.replace(/\\(.)/gs, "$1");
}

/** Reads an embed we sent back into the notification it came from. */
export function decodeDiscordMessage(message: Record<string, unknown>): Notification {
  const embed = (message.embeds as Record<string, unknown>[])[0] as Record<string, unknown>;
  let description = String(embed.description ?? "");
  let subject = unescapeDiscord(String(embed.title));
  const head = /^\*\*((?:\\.|[^\\*])*)\*\*\n\n/s.exec(description);
  if (head) {
    subject = unescapeDiscord(head[1] as string);
    description = description.slice(head[0].length);
  }
  let data: unknown = null;
  const block = /\n?```json\n([\s\S]*)\n```$/.exec(description);
  if (block) {
    data = JSON.parse(block[1] as string);
    description = description.slice(0, block.index);
  }
  const fields = embed.fields as { name: string; value: string }[] | undefined;
  if (fields) {
    data = Object.fromEntries(
      fields.map((f) => {
        const code = /^`` ([\s\S]*) ``$/.exec(f.value) ?? /^`([^`]*)`$/.exec(f.value);
        return [
          unescapeDiscord(f.name),
          readValue(code ? (code[1] as string) : unescapeDiscord(f.value), code !== null),
        ];
      }),
    );
  }
  const footer = String((embed.footer as { text: string }).text);
  return {
    subject,
    body: unescapeDiscord(description),
    timestamp: String(embed.timestamp),
    severity: COLORS[Number(embed.color)] as NotificationSeverity,
    kind: footer.slice(footer.indexOf(" · ") + 3),
    data: data as Notification["data"],
  };
}

/** A Discord webhook on 127.0.0.1. */
export class DiscordFake extends ServiceFake<Record<string, unknown>> {
  /** The webhook URL to configure. */
  readonly url: string;
  readonly id: string;
  /** The secret part of the URL. */
  readonly token: string;
  /** The `X-RateLimit-Remaining` the next successes report (then 4). */
  readonly remaining: string[];

  private constructor(server: Awaited<ReturnType<typeof startServer>>, id: string, token: string) {
    let serial = 1_000_000_000_000_000_000n;
    const remaining: string[] = [];
    super(server, {
      check: (request) => DiscordFake.check(request, id, token),
      accept: (message) => {
        const headers = {
          "x-ratelimit-limit": "5",
          "x-ratelimit-remaining": remaining.shift() ?? "4",
          "x-ratelimit-reset-after": "1.5",
          "x-ratelimit-bucket": "fakebucket",
        };
        serial += 1n;
        return json(
          200,
          { id: String(serial), type: 0, channel_id: "1", webhook_id: id, content: "", ...message },
          headers,
        );
      },
      reject: (violations, request) => {
        const path = request.path.split("?")[0] ?? "";
        if (!path.startsWith(`/api/webhooks/${id}/`))
          return json(404, { message: "Unknown Webhook", code: 10015 });
        if (path !== `/api/webhooks/${id}/${token}`)
          return json(401, { message: "Invalid Webhook Token", code: 50027 });
        return json(400, { code: 50035, errors: { _errors: violations }, message: "Invalid Form Body" });
      },
    });
    this.remaining = remaining;
    this.id = id;
    this.token = token;
    this.url = `${server.url}/api/webhooks/${id}/${token}`;
  }

  static async start(): Promise<DiscordFake> {
    const id = String(BigInt(`0x${randomBytes(7).toString("hex")}`));
    return new DiscordFake(await startServer(), id, randomBytes(30).toString("base64url"));
  }

  /** A 429 as Discord sends it: `retry_after` in seconds in the body, and Retry-After rounded up. */
  static tooManyRequests(retryAfterSeconds: number): Reply {
    return json(
      429,
      { message: "You are being rate limited.", retry_after: retryAfterSeconds, global: false },
      { "retry-after": String(Math.ceil(retryAfterSeconds)), "x-ratelimit-scope": "user" },
    );
  }

  /** What it received, read back as notifications. */
  notifications(): Notification[] {
    return this.messages.map(decodeDiscordMessage);
  }

  private static check(request: ReceivedRequest, id: string, token: string) {
    const { need, violations, body } = checkJsonPost(request, `/api/webhooks/${id}/${token}`, TOP_KEYS);
    need(
      new URL(`http://x${request.path}`).searchParams.get("wait") === "true",
      "no wait=true: a failed message would not be reported",
    );
    if (body === null) return { violations, message: null };
    need(body.content !== undefined || body.embeds !== undefined, "no content or embeds");
    need(len(body.content) <= 2_000, `content: ${len(body.content)} characters, more than 2000`);
    if (body.username !== undefined) {
      need(len(body.username) >= 1 && len(body.username) <= 80, "username: not 1 to 80 characters");
      need(!/discord|clyde/i.test(String(body.username)), "username: contains discord or clyde");
    }
    if (body.allowed_mentions !== undefined) {
      const parse = (body.allowed_mentions as { parse?: unknown }).parse;
      need(
        Array.isArray(parse) && parse.every((p) => ["roles", "users", "everyone"].includes(p)),
        "allowed_mentions.parse",
      );
    }
    const embeds = body.embeds;
    if (
      embeds !== undefined &&
      need(Array.isArray(embeds), "embeds: must be an array") &&
      Array.isArray(embeds)
    ) {
      need(embeds.length <= 10, `embeds: ${embeds.length}, more than 10`);
      let total = 0;
      for (const [i, e] of embeds.entries()) {
        if (!need(isObject(e), `embeds[${i}]: must be an object`) || !isObject(e)) continue;
        for (const key of Object.keys(e))
          need(EMBED_KEYS.has(key), `embeds[${i}].${key}: not allowed in a webhook embed`);
        need(len(e.title) <= 256, `embeds[${i}].title: ${len(e.title)} characters, more than 256`);
        need(
          len(e.description) <= 4_096,
          `embeds[${i}].description: ${len(e.description)} characters, more than 4096`,
        );
        need(
          e.color === undefined ||
            (Number.isInteger(e.color) && Number(e.color) >= 0 && Number(e.color) <= 0xffffff),
          `embeds[${i}].color`,
        );
        need(
          e.timestamp === undefined || !Number.isNaN(Date.parse(String(e.timestamp))),
          `embeds[${i}].timestamp: not ISO-8601`,
        );
        const footer = e.footer as { text?: unknown } | undefined;
        if (footer !== undefined)
          need(len(footer.text) >= 1 && len(footer.text) <= 2_048, `embeds[${i}].footer.text: not 1 to 2048`);
        const fields = (e.fields ?? []) as { name?: unknown; value?: unknown; inline?: unknown }[];
        need(Array.isArray(fields) && fields.length <= 25, `embeds[${i}].fields: more than 25`);
        for (const [j, f] of fields.entries()) {
          need(
            len(f.name) >= 1 && len(f.name) <= 256,
            `embeds[${i}].fields[${j}].name: not 1 to 256 characters`,
          );
          need(
            len(f.value) >= 1 && len(f.value) <= 1_024,
            `embeds[${i}].fields[${j}].value: ${len(f.value)} characters, not 1 to 1024`,
          );
          need(f.inline === undefined || typeof f.inline === "boolean", `embeds[${i}].fields[${j}].inline`);
          total += len(f.name) + len(f.value);
        }
        total +=
          len(e.title) +
          len(e.description) +
          len(footer?.text) +
          len((e.author as { name?: unknown } | undefined)?.name);
      }
      need(total <= 6_000, `embeds: ${total} characters in all, more than 6000`);
    }
    return { violations, message: body };
  }
}
