/**
 * A notification as a Telegram `sendMessage` text in HTML parse mode
 * (https://core.telegram.org/bots/api#html-style): the severity as an emoji and a bold label,
 * the subject in bold, the body, `data` as `name: value` lines (JSON values in `<code>`, other
 * data as a `<pre>` JSON block), kind and time in italics, and a dashboard link.
 *
 * Escaping: every `<`, `>` and `&` that is not part of a tag becomes `&lt;`, `&gt;`, `&amp;`
 * (and `"` in an attribute `&quot;`), which is all Telegram asks. The limit is 4,096 characters
 * of text *after entities parsing* (https://core.telegram.org/bots/api#sendmessage): tags do not
 * count, an escaped `&amp;` counts as one. We measure the visible text in UTF-16 code units, never
 * less than what Telegram counts, and cut the body (then the data) to fit.
 */

import { fitText, layoutNotification } from "./message-layout.js";
import type { Notification } from "./notifier.js";

/** Telegram's documented limit for a message text, after entities parsing. */
export const TELEGRAM_TEXT_LIMIT = 4_096;

/** Escapes text for Telegram HTML. */
export function escapeTelegram(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A piece of the message: its HTML and the text a reader sees (what Telegram counts). */
interface Piece {
  html: string;
  text: string;
}

const plain = (text: string): Piece => ({ html: escapeTelegram(text), text });
const tag = (name: string, inner: Piece, attrs = ""): Piece => ({
  html: `<${name}${attrs}>${inner.html}</${name}>`,
  text: inner.text,
});
const join = (pieces: Piece[]): Piece => ({
  html: pieces.map((p) => p.html).join(""),
  text: pieces.map((p) => p.text).join(""),
});
const size = (p: Piece) => p.text.length;

/** `raw` as a piece of at most `max` visible characters. */
function cut(raw: string, max: number): Piece {
  return plain(fitText(raw, Math.max(0, max)));
}

/** Data lines shown at most this long each, so that many fields still leave room for the body. */
const MAX_FIELD = 500;
/** The data (fields or JSON) gets at most this share of the room left after subject and footer. */
const DATA_SHARE = 0.5;

/** The `text` (HTML) of the sendMessage call for `n`. */
export function telegramText(n: Notification, dashboardUrl: string | null = null): string {
  const m = layoutNotification(n, dashboardUrl);
  const header = join([
    plain(`${m.style.emoji} `),
    tag("b", plain(m.style.label)),
    plain(" "),
    tag("b", plain(m.subject)),
  ]);
  const footer = join([
    plain("\n\n"),
    tag("i", plain(`${m.kind} · ${m.timestamp}`)),
    ...(m.link
      ? [
          plain("\n"),
          tag("a", plain("Open the dashboard"), ` href="${escapeTelegram(m.link).replace(/"/g, "&quot;")}"`),
        ]
      : []),
  ]);
  let room = TELEGRAM_TEXT_LIMIT - size(header) - size(footer);
  const dataRoom = Math.floor(room * DATA_SHARE);
  const data: Piece[] = [];
  let used = 0;
  for (const f of m.fields) {
    const name = tag("b", cut(f.name, 100));
    const value = f.code ? tag("code", cut(f.value, MAX_FIELD)) : cut(f.value, MAX_FIELD);
    const line = join([plain("\n"), name, plain(": "), value]);
    if (used + size(line) > dataRoom) break;
    used += size(line);
    data.push(line);
  }
  if (m.dataBlock !== null) {
    const block = tag("pre", tag("code", cut(m.dataBlock, dataRoom - 2), ' class="language-json"'));
    data.push(join([plain("\n"), block]));
    used += size(block) + 1;
  }
  const gap = data.length > 0 ? plain("\n") : plain("");
  room -= used + size(gap);
  const body = m.body ? join([plain("\n\n"), cut(m.body, room - 2)]) : plain("");
  return join([header, body, gap, ...data, footer]).html;
}
