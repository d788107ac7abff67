/**
 * A notification as a Slack incoming-webhook message: the severity as the attachment's colour bar
 * and a label, the subject as a header block, the body as a mrkdwn section, `data` as section
 * fields, kind and time in a context block with the dashboard link. `text` is the fallback shown
 * in push notifications. Limits (https://docs.slack.dev/reference/block-kit/blocks/):
 *
 * - header text: 150 characters (header-block);
 * - section text: 3,000; section fields: 10 per section, 2,000 each (section-block);
 * - context: 10 elements (context-block); 50 blocks per message;
 * - top-level `text`: Slack truncates beyond 40,000 characters
 *   (https://docs.slack.dev/reference/methods/chat.postMessage, "Truncating really long messages").
 *
 * mrkdwn needs `&`, `<` and `>` escaped as entities (https://docs.slack.dev/messaging/formatting-message-text,
 * "Escaping text"); otherwise `<!channel>` in a job's error text would ping the whole channel.
 * Every block has a `block_id` naming its role, so receivers (and our tests) can read it back.
 */

import { fitText, layoutNotification } from "./message-layout.js";
import type { Notification } from "./notifier.js";

/** Slack's documented limits. */
export const SLACK_LIMITS = Object.freeze({
  text: 40_000,
  headerText: 150,
  sectionText: 3_000,
  fieldsPerSection: 10,
  fieldText: 2_000,
  contextText: 3_000,
  blocks: 50,
});

/** A text object. */
export interface SlackText {
  type: "plain_text" | "mrkdwn";
  text: string;
  emoji?: boolean;
}

/** The blocks we send. */
export type SlackBlock =
  | { type: "header"; block_id: string; text: SlackText }
  | { type: "section"; block_id: string; text?: SlackText; fields?: SlackText[] }
  | { type: "context"; block_id: string; elements: SlackText[] };

/** An incoming-webhook message. */
export interface SlackMessage {
  text: string;
  attachments: { color: string; fallback: string; blocks: SlackBlock[] }[];
  unfurl_links: false;
  unfurl_media: false;
}

/** Escapes the three characters mrkdwn reserves. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const mrkdwn = (text: string): SlackText => ({ type: "mrkdwn", text });

/** Inline code when it can be (no backtick inside), a code block otherwise. */
function code(raw: string, max: number): string {
  if (!raw.includes("`")) return `\`${fitText(raw, max - 2, escapeSlack)}\``;
  return `\`\`\`${fitText(raw, max - 6, escapeSlack)}\`\`\``;
}

/** The Slack message for `n`. */
export function slackMessage(n: Notification, dashboardUrl: string | null = null): SlackMessage {
  const m = layoutNotification(n, dashboardUrl);
  const blocks: SlackBlock[] = [
    {
      type: "header",
      block_id: "subject",
      text: { type: "plain_text", text: fitText(m.subject, SLACK_LIMITS.headerText), emoji: true },
    },
  ];
  if (m.subject.length > SLACK_LIMITS.headerText) {
    blocks.push({
      type: "section",
      block_id: "full-subject",
      text: mrkdwn(fitText(m.subject, SLACK_LIMITS.sectionText, escapeSlack)),
    });
  }
  if (m.body) {
    blocks.push({
      type: "section",
      block_id: "body",
      text: mrkdwn(fitText(m.body, SLACK_LIMITS.sectionText, escapeSlack)),
    });
  }
  for (let i = 0; i < m.fields.length; i += SLACK_LIMITS.fieldsPerSection) {
    const fields = m.fields.slice(i, i + SLACK_LIMITS.fieldsPerSection).map((f) => {
      const name = `*${fitText(f.name, 200, escapeSlack)}*\n`;
      const room = SLACK_LIMITS.fieldText - name.length;
      return mrkdwn(name + (f.code ? code(f.value, room) : fitText(f.value, room, escapeSlack)));
    });
    blocks.push({ type: "section", block_id: `fields-${i / SLACK_LIMITS.fieldsPerSection}`, fields });
  }
  if (m.dataBlock !== null) {
    blocks.push({
      type: "section",
      block_id: "data",
      text: mrkdwn(`\`\`\`${fitText(m.dataBlock, SLACK_LIMITS.sectionText - 6, escapeSlack)}\`\`\``),
    });
  }
  const meta = `${m.style.emoji} *${m.style.label}* · \`${escapeSlack(m.kind)}\` · ${m.timestamp}`;
  const elements = [mrkdwn(meta)];
  if (m.link)
    elements.push(mrkdwn(`<${m.link.replace(/&/g, "&amp;").replace(/\|/g, "%7C")}|Open the dashboard>`));
  blocks.push({ type: "context", block_id: "meta", elements });
  const fallback = fitText(`${m.style.emoji} ${m.style.label}: ${m.subject}`, SLACK_LIMITS.text, escapeSlack);
  return {
    text: fallback,
    attachments: [{ color: m.style.hex, fallback, blocks }],
    unfurl_links: false,
    unfurl_media: false,
  };
}
