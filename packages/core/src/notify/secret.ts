/**
 * Secrets in notifier options (webhook URLs that carry a token, bot tokens, SMTP passwords): held
 * in a {@link Secret} that prints as `[redacted]` everywhere (String(), JSON, util.inspect), and
 * scrubbed out of any text that might reach a log or an error message with {@link redactSecrets}.
 */

import { inspect } from "node:util";

/** What a secret looks like wherever it is printed. */
export const REDACTED = "[redacted]";

/** A secret value that never prints itself; `reveal()` is the only way to read it. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself, for the one place that must send it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Replaces every occurrence of each secret (and of its URL-encoded form) in `text` with
 * `[redacted]`. Secrets shorter than 4 characters are ignored: scrubbing them would garble text
 * without protecting anything.
 */
export function redactSecrets(text: string, secrets: readonly (string | Secret)[]): string {
  let out = text;
  for (const s of secrets) {
    const value = typeof s === "string" ? s : s.reveal();
    if (value.length < 4) continue;
    for (const form of new Set([value, encodeURIComponent(value)])) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** The part of a URL that is safe to show: its origin (a token may sit in the path or the query). */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return REDACTED;
  }
}
