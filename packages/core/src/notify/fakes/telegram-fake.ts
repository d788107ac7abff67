/**
 * A local Telegram Bot API with one method, `sendMessage`. It checks what the Bot API documents:
 * POST `/bot<token>/sendMessage` with JSON; a known `chat_id`; `parse_mode` HTML whose text uses
 * only the supported tags (b, strong, i, em, u, ins, s, strike, del, a href, code, pre,
 * blockquote, tg-spoiler, span class="tg-spoiler"), properly nested, with only `&lt;`, `&gt;`,
 * `&amp;`, `&quot;` and numeric entities; 1 to 4,096 characters of text after entities parsing.
 * It answers as the Bot API does: `{ok: true, result: Message}` or `{ok: false, error_code,
 * description, parameters?}` (401 Unauthorized, 400 "chat not found", "can't parse entities",
 * "message is too long", 429 with `parameters.retry_after`).
 */

import { randomBytes } from "node:crypto";
import type { Notification, NotificationSeverity } from "../notifier.js";
import type { ReceivedRequest, Reply } from "../test-server.js";
import { checkJsonPost, readValue, ServiceFake, startServer } from "./service-fake.js";

const TOP_KEYS = new Set([
  "chat_id",
  "text",
  "parse_mode",
  "entities",
  "link_preview_options",
  "disable_notification",
  "protect_content",
  "message_thread_id",
  "reply_parameters",
  "reply_markup",
]);
const TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-spoiler",
  "span",
  "tg-emoji",
]);
const LABELS: Record<string, NotificationSeverity> = {
  INFO: "info",
  WARNING: "warning",
  CRITICAL: "critical",
};

const answer = (status: number, body: unknown): Reply => ({
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const failure = (code: number, description: string, parameters?: object) =>
  answer(code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

/** Parses Telegram HTML as the Bot API does; returns the visible text or the reason it cannot. */
export function parseTelegramHtml(html: string): { text: string } | { error: string } {
  const token = /<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"]*")*)\s*>|&(#x[0-9a-f]+|#\d+|[a-z]+);|[^<&]+|[<&]/giy;
  const stack: string[] = [];
  let text = "";
  for (let m = token.exec(html); m !== null; m = token.exec(html)) {
    const [whole, closing, name, , entity] = m;
    if (name !== undefined) {
      const tag = name.toLowerCase();
      if (!TAGS.has(tag)) return { error: `Unsupported start tag "${tag}"` };
      if (closing) {
        if (stack.pop() !== tag) return { error: `Unmatched end tag "${tag}"` };
      } else stack.push(tag);
    } else if (entity !== undefined) {
      const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };
      if (entity.startsWith("#")) {
        const code = entity[1] === "x" ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
        text += String.fromCodePoint(code);
      } else if (named[entity] !== undefined) text += named[entity];
      else return { error: `Unsupported HTML entity "&${entity};"` };
    } else if (whole === "<" || whole === "&") {
      return { error: `Unexpected "${whole}" not part of a tag or an entity` };
    } else text += whole;
  }
  if (stack.length > 0) return { error: `Can't find end tag corresponding to start tag "${stack.at(-1)}"` };
  return { text };
}

function unescapeTelegram(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

/** Reads a message we sent back into the notification it came from. */
export function decodeTelegramText(html: string): Notification {
  const head = /^\S+ <b>(INFO|WARNING|CRITICAL)<\/b> <b>([\s\S]*?)<\/b>/.exec(html);
  const foot = /\n\n<i>([\s\S]*?) · (\S+)<\/i>(?:\n<a href="[^"]*">Open the dashboard<\/a>)?$/.exec(html);
  if (!head || !foot) throw new Error(`telegram fake: unreadable message ${html.slice(0, 200)}`);
  const middle = html.slice(head[0].length, foot.index);
  const dataAt = middle.search(/\n\n<b>|\n\n<pre>/);
  const body = dataAt === 0 ? "" : middle.slice(2, dataAt < 0 ? undefined : dataAt);
  const rest = dataAt < 0 ? "" : middle.slice(dataAt + 1);
  let data: unknown = null;
  const pre = /^\n<pre><code class="language-json">([\s\S]*)<\/code><\/pre>$/.exec(rest);
  if (pre) data = JSON.parse(unescapeTelegram(pre[1] as string));
  else if (rest) {
    const lines = [
      ...rest.matchAll(/\n<b>([\s\S]*?)<\/b>: (?:<code>([\s\S]*?)<\/code>|([\s\S]*?))(?=\n<b>|$)/g),
    ];
    data = Object.fromEntries(
      lines.map((l) => [
        unescapeTelegram(l[1] as string),
        readValue(unescapeTelegram((l[2] ?? l[3]) as string), l[2] !== undefined),
      ]),
    );
  }
  return {
    subject: unescapeTelegram(head[2] as string),
    body: unescapeTelegram(body),
    timestamp: foot[2] as string,
    severity: LABELS[head[1] as string] as NotificationSeverity,
    kind: unescapeTelegram(foot[1] as string),
    data: data as Notification["data"],
  };
}

/** A Telegram Bot API on 127.0.0.1 that knows one bot and the chats it may write to. */
export class TelegramFake extends ServiceFake<Record<string, unknown>> {
  /** The API base to configure (`apiBase`). */
  readonly apiBase: string;
  /** The bot's token. */
  readonly token: string;

  private constructor(
    server: Awaited<ReturnType<typeof startServer>>,
    token: string,
    chats: readonly (number | string)[],
  ) {
    let messageId = 0;
    super(server, {
      check: (request) => TelegramFake.check(request, token, chats),
      accept: (message) => {
        messageId += 1;
        const parsed = parseTelegramHtml(String(message.text));
        const chat = message.chat_id;
        return answer(200, {
          ok: true,
          result: {
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: chat, type: typeof chat === "number" && chat > 0 ? "private" : "supergroup" },
            text: "text" in parsed ? parsed.text : "",
          },
        });
      },
      reject: (violations, request) => {
        if (request.path !== `/bot${token}/sendMessage`) {
          return request.path.startsWith(`/bot${token}/`)
            ? failure(404, "Not Found")
            : failure(401, "Unauthorized");
        }
        const reason = violations.find((v) => v.startsWith("Bad Request")) ?? `Bad Request: ${violations[0]}`;
        return failure(400, reason);
      },
    });
    this.token = token;
    this.apiBase = server.url;
  }

  /** A fake that accepts messages to `chats` only. */
  static async start(chats: readonly (number | string)[] = [424242]): Promise<TelegramFake> {
    const token = `${100_000 + Math.floor(Math.random() * 900_000)}:AA${randomBytes(24).toString("base64url")}`;
    return new TelegramFake(await startServer(), token, chats);
  }

  /** A 429 as the Bot API sends it. */
  static tooManyRequests(retryAfterSeconds: number): Reply {
    return failure(429, `Too Many Requests: retry after ${retryAfterSeconds}`, {
      retry_after: retryAfterSeconds,
    });
  }

  /** A group upgraded to a supergroup: the old id no longer works. */
  static migrated(to: number): Reply {
    return failure(400, "Bad Request: group chat was upgraded to a supergroup chat", {
      migrate_to_chat_id: to,
    });
  }

  /** What it received, read back as notifications. */
  notifications(): Notification[] {
    return this.messages.map((m) => decodeTelegramText(String(m.text)));
  }

  private static check(request: ReceivedRequest, token: string, chats: readonly (number | string)[]) {
    const { need, violations, body } = checkJsonPost(request, `/bot${token}/sendMessage`, TOP_KEYS);
    if (body === null) return { violations, message: null };
    need(
      typeof body.chat_id === "number" || typeof body.chat_id === "string",
      "Bad Request: chat_id is empty",
    );
    need(chats.includes(body.chat_id as number | string), "Bad Request: chat not found");
    need(body.parse_mode === "HTML", `parse_mode ${String(body.parse_mode)}, not HTML`);
    if (body.message_thread_id !== undefined)
      need(Number.isInteger(body.message_thread_id), "message_thread_id");
    if (need(typeof body.text === "string", "Bad Request: message text is empty")) {
      const parsed = parseTelegramHtml(String(body.text));
      if ("error" in parsed) need(false, `Bad Request: can't parse entities: ${parsed.error}`);
      else {
        need(parsed.text.trim().length > 0, "Bad Request: message text is empty");
        need(
          parsed.text.length <= 4_096,
          `Bad Request: message is too long (${parsed.text.length} characters)`,
        );
      }
    }
    return { violations, message: body };
  }
}
