/**
 * A notification as a Discord webhook message with one embed: severity as the embed colour and a
 * footer label, subject as the title (linking to the dashboard), body and any JSON block as the
 * description, `data` as fields, the timestamp as the embed's own (shown in each reader's zone).
 * Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
 * title 256, description 4,096, 25 fields of name 256 and value 1,024, footer 2,048, and 6,000
 * characters over the whole embed; message content 2,000 (we send none).
 *
 * Markdown is escaped with backslashes, and `allowed_mentions: { parse: [] }` makes sure an
 * `@everyone` in a job's error text never pings anybody
 * (https://discord.com/developers/docs/resources/message#allowed-mentions-object).
 */

import { type DataField, fitText, layoutNotification } from "./message-layout.js";
import type { Notification } from "./notifier.js";

/** Discord's documented embed limits. */
export const DISCORD_LIMITS = Object.freeze({
  content: 2_000,
  title: 256,
  description: 4_096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1_024,
  footer: 2_048,
  embedTotal: 6_000,
});

/** One embed. */
export interface DiscordEmbed {
  title: string;
  url?: string;
  description?: string;
  color: number;
  timestamp: string;
  fields?: { name: string; value: string; inline: boolean }[];
  footer: { text: string };
}

/** An execute-webhook body. */
export interface DiscordMessage {
  username?: string;
  avatar_url?: string;
  allowed_mentions: { parse: [] };
  embeds: [DiscordEmbed];
}

/** Escapes Discord markdown (and `<` of mention and timestamp syntax) with backslashes. */
export function escapeDiscord(text: string): string {
  return text.replace(/[\\*_~`|<>#\-[\]()]/g, "\\$&");
}

/** Fields shorter than this sit side by side. */
const INLINE_UP_TO = 40;
/** The description keeps at least this much room when fields compete for the 6,000. */
const DESCRIPTION_SHARE = 1_500;

function codeValue(json: string, max: number): string {
  // Inline code cannot hold a backtick; double backticks with spaces can.
  const [open, close] = json.includes("`") ? ["`` ", " ``"] : ["`", "`"];
  return open + fitText(json, max - open.length - close.length) + close;
}

function renderFields(
  fields: DataField[],
  budget: number,
): { name: string; value: string; inline: boolean }[] {
  const out: { name: string; value: string; inline: boolean }[] = [];
  const share = Math.floor(budget / Math.max(1, fields.length));
  let used = 0;
  for (const f of fields.slice(0, DISCORD_LIMITS.fields)) {
    const name = fitText(f.name, DISCORD_LIMITS.fieldName, escapeDiscord);
    const room = Math.max(20, Math.min(DISCORD_LIMITS.fieldValue, share - name.length));
    const value = f.code ? codeValue(f.value, room) : fitText(f.value, room, escapeDiscord);
    if (used + name.length + value.length > budget) break;
    used += name.length + value.length;
    out.push({ name, value, inline: value.length <= INLINE_UP_TO });
  }
  return out;
}

/** The execute-webhook body for `n`. */
export function discordMessage(
  n: Notification,
  options: { dashboardUrl?: string | null; username?: string; avatarUrl?: string } = {},
): DiscordMessage {
  const m = layoutNotification(n, options.dashboardUrl ?? null);
  const title = fitText(m.subject, DISCORD_LIMITS.title, escapeDiscord);
  const footer = fitText(`${m.style.emoji} ${m.style.label} · ${m.kind}`, DISCORD_LIMITS.footer);
  const head = m.subject.length > DISCORD_LIMITS.title ? `**${escapeDiscord(m.subject)}**\n\n` : "";
  const wanted = head.length + escapeDiscord(m.body).length + (m.dataBlock?.length ?? 0);
  const fieldBudget =
    DISCORD_LIMITS.embedTotal - title.length - footer.length - Math.min(wanted, DESCRIPTION_SHARE);
  const fields = renderFields(m.fields, fieldBudget);
  const fieldsLength = fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  let room = Math.min(
    DISCORD_LIMITS.description,
    DISCORD_LIMITS.embedTotal - title.length - footer.length - fieldsLength,
  );
  let description = head.slice(0, Math.max(0, room));
  room -= description.length;
  if (m.dataBlock !== null) {
    // The JSON gets what the body leaves, but at least half of the room.
    const bodyPart = fitText(m.body, Math.max(0, Math.floor(room / 2)), escapeDiscord);
    const sep = description || m.body ? "\n" : "";
    const fence = (json: string) => `${sep}\`\`\`json\n${json}\n\`\`\``;
    const json = fitText(m.dataBlock, Math.max(0, room - bodyPart.length - fence("").length));
    description += m.body ? bodyPart : "";
    description += fence(json);
  } else {
    description += fitText(m.body, Math.max(0, room), escapeDiscord);
  }
  const embed: DiscordEmbed = {
    title,
    ...(m.link ? { url: m.link } : {}),
    ...(description ? { description } : {}),
    color: m.style.color,
    timestamp: m.timestamp,
    ...(fields.length > 0 ? { fields } : {}),
    footer: { text: footer },
  };
  return {
    ...(options.username ? { username: options.username } : {}),
    ...(options.avatarUrl ? { avatar_url: options.avatarUrl } : {}),
    allowed_mentions: { parse: [] },
    embeds: [embed],
  };
}
