/**
 * A local Slack incoming webhook. It checks what Slack documents: POST to the webhook's own path,
 * a JSON body with `text`, `blocks` or `attachments`; blocks of known types within their limits
 * (header 150, section text 3,000, 10 fields of 2,000, context 10 elements, 50 blocks, unique
 * block ids up to 255); mrkdwn with `&`, `<` and `>` escaped; `text` within 40,000. It answers
 * `ok`, or 400 `invalid_payload` / `invalid_blocks` / `no_text`, 404 `no_service` as Slack does.
 */

import { randomBytes } from "node:crypto";
import type { Notification, NotificationSeverity } from "../notifier.js";
import type { ReceivedRequest, Reply } from "../test-server.js";
import { checkJsonPost, isObject, readValue, ServiceFake, startServer } from "./service-fake.js";

const TOP_KEYS = new Set([
  "text",
  "blocks",
  "attachments",
  "unfurl_links",
  "unfurl_media",
  "mrkdwn",
  "thread_ts",
]);
const LABELS: Record<string, NotificationSeverity> = {
  INFO: "info",
  WARNING: "warning",
  CRITICAL: "critical",
};

/** mrkdwn may hold `<url|label>` links; any other `<`, `>` or a bare `&` was not escaped. */
function escapedProperly(text: string): boolean {
  const withoutLinks = text.replace(/<https?:\/\/[^|<>\s]+\|[^<>]+>/g, "");
  return !/[<>]/.test(withoutLinks) && !/&(?!amp;|lt;|gt;)/.test(withoutLinks);
}

function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function checkText(
  t: unknown,
  where: string,
  max: number,
  need: (ok: unknown, r: string) => boolean,
  plainOnly = false,
) {
  if (!need(isObject(t), `${where}: must be a text object`) || !isObject(t)) return;
  need(t.type === "plain_text" || (!plainOnly && t.type === "mrkdwn"), `${where}.type: ${String(t.type)}`);
  need(typeof t.text === "string" && t.text.length > 0, `${where}.text: must be a non-empty string`);
  if (typeof t.text === "string") {
    need(t.text.length <= max, `${where}.text: ${t.text.length} characters, more than ${max}`);
    if (t.type === "mrkdwn") need(escapedProperly(t.text), `${where}.text: unescaped &, < or >`);
  }
}

function checkBlocks(blocks: unknown, where: string, need: (ok: unknown, r: string) => boolean): void {
  if (!need(Array.isArray(blocks), `${where}: must be an array`) || !Array.isArray(blocks)) return;
  need(blocks.length <= 50, `${where}: ${blocks.length} blocks, more than 50`);
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    const at = `${where}[${i}]`;
    if (!need(isObject(b), `${at}: must be an object`) || !isObject(b)) return;
    if (b.block_id !== undefined) {
      need(typeof b.block_id === "string" && b.block_id.length <= 255, `${at}.block_id: too long`);
      need(!ids.has(String(b.block_id)), `${at}.block_id: duplicate ${String(b.block_id)}`);
      ids.add(String(b.block_id));
    }
    if (b.type === "header") checkText(b.text, `${at}.text`, 150, need, true);
    else if (b.type === "section") {
      need(b.text !== undefined || b.fields !== undefined, `${at}: needs text or fields`);
      if (b.text !== undefined) checkText(b.text, `${at}.text`, 3_000, need);
      if (b.fields !== undefined && need(Array.isArray(b.fields), `${at}.fields: must be an array`)) {
        const fields = b.fields as unknown[];
        need(fields.length >= 1 && fields.length <= 10, `${at}.fields: ${fields.length} items, not 1 to 10`);
        for (const [j, f] of fields.entries()) checkText(f, `${at}.fields[${j}]`, 2_000, need);
      }
    } else if (b.type === "context") {
      const elements = Array.isArray(b.elements) ? b.elements : [];
      need(
        elements.length >= 1 && elements.length <= 10,
        `${at}.elements: ${elements.length} items, not 1 to 10`,
      );
      for (const [j, e] of elements.entries()) checkText(e, `${at}.elements[${j}]`, 3_000, need);
    } else if (b.type !== "divider") need(false, `${at}.type: unknown block type ${String(b.type)}`);
  });
}

/** The blocks of a message by block id. */
type Blocks = Map<string, Record<string, unknown>>;

function blockText(b: Record<string, unknown> | undefined): string {
  return String((b?.text as { text?: string } | undefined)?.text ?? "");
}

/** Reads a message we sent back into the notification it came from. */
export function decodeSlackMessage(message: Record<string, unknown>): Notification {
  const attachment = (message.attachments as Record<string, unknown>[])[0] as Record<string, unknown>;
  const blocks: Blocks = new Map(
    (attachment.blocks as Record<string, unknown>[]).map((b) => [String(b.block_id), b]),
  );
  const full = blocks.get("full-subject");
  const subject = full ? unescapeSlack(blockText(full)) : blockText(blocks.get("subject"));
  const meta = String(((blocks.get("meta")?.elements as { text: string }[]) ?? [])[0]?.text ?? "");
  const parts = /^\S+ \*(INFO|WARNING|CRITICAL)\* · `([^`]+)` · (\S+)$/.exec(meta);
  if (!parts) throw new Error(`slack fake: unreadable context '${meta}'`);
  let data: unknown = null;
  const fieldBlocks = [...blocks.keys()].filter((k) => k.startsWith("fields-"));
  if (fieldBlocks.length > 0) {
    const entries: [string, unknown][] = [];
    for (const key of fieldBlocks) {
      for (const f of (blocks.get(key)?.fields as { text: string }[]) ?? []) {
        const [, name = "", value = ""] = /^\*([\s\S]*?)\*\n([\s\S]*)$/.exec(f.text) ?? [];
        const code = /^```([\s\S]*)```$/.exec(value) ?? /^`([^`]*)`$/.exec(value);
        entries.push([
          unescapeSlack(name),
          readValue(unescapeSlack(code ? (code[1] ?? "") : value), code !== null),
        ]);
      }
    }
    data = Object.fromEntries(entries);
  } else if (blocks.has("data")) {
    data = JSON.parse(unescapeSlack(blockText(blocks.get("data")).replace(/^```|```$/g, "")));
  }
  return {
    subject,
    body: blocks.has("body") ? unescapeSlack(blockText(blocks.get("body"))) : "",
    timestamp: parts[3] as string,
    severity: LABELS[parts[1] as string] as NotificationSeverity,
    kind: unescapeSlack(parts[2] as string),
    data: data as Notification["data"],
  };
}

/** A Slack incoming webhook on 127.0.0.1. */
export class SlackFake extends ServiceFake<Record<string, unknown>> {
  /** The webhook URL to configure (its last segment is the secret). */
  readonly url: string;
  /** The secret part of the path. */
  readonly token: string;

  private constructor(server: Awaited<ReturnType<typeof startServer>>, path: string, token: string) {
    super(server, {
      check: (request) => SlackFake.check(request, path),
      accept: (): Reply => ({ status: 200, headers: { "content-type": "text/plain" }, body: "ok" }),
      reject: (violations, request) => {
        if (request.path !== path)
          return { status: 404, headers: { "content-type": "text/plain" }, body: "no_service" };
        const reason = violations.some((v) => v.includes("blocks"))
          ? "invalid_blocks"
          : violations.some((v) => v.startsWith("no text"))
            ? "no_text"
            : "invalid_payload";
        return { status: 400, headers: { "content-type": "text/plain" }, body: reason };
      },
    });
    this.token = token;
    this.url = `${server.url}${path}`;
  }

  static async start(): Promise<SlackFake> {
    const token = randomBytes(12).toString("hex");
    return new SlackFake(await startServer(), `/services/T0FAKE000/B0FAKE000/${token}`, token);
  }

  /** What it received, read back as notifications. */
  notifications(): Notification[] {
    return this.messages.map(decodeSlackMessage);
  }

  private static check(request: ReceivedRequest, path: string) {
    const { need, violations, body } = checkJsonPost(request, path, TOP_KEYS);
    if (body === null) return { violations, message: null };
    need(
      (typeof body.text === "string" && body.text.length > 0) ||
        body.blocks !== undefined ||
        body.attachments !== undefined,
      "no text, blocks or attachments",
    );
    if (typeof body.text === "string")
      need(body.text.length <= 40_000, `text: ${body.text.length} characters, more than 40000`);
    if (body.blocks !== undefined) checkBlocks(body.blocks, "blocks", need);
    if (
      body.attachments !== undefined &&
      need(Array.isArray(body.attachments), "attachments: must be an array")
    ) {
      (body.attachments as unknown[]).forEach((a, i) => {
        if (!need(isObject(a), `attachments[${i}]: must be an object`) || !isObject(a)) return;
        need(
          a.color === undefined || /^#[0-9a-f]{6}$/i.test(String(a.color)),
          `attachments[${i}].color: ${String(a.color)}`,
        );
        if (a.blocks !== undefined) checkBlocks(a.blocks, `attachments[${i}].blocks`, need);
      });
    }
    return { violations, message: body };
  }
}
