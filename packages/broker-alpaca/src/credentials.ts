/**
 * Alpaca API credentials, held so that they cannot leak: the key id and secret live in private
 * fields, `toJSON()` and `util.inspect` print a placeholder, and {@link Credentials.redact} scrubs
 * both from any text (a server message, a network error) before it reaches an error or a log.
 */

import { inspect } from "node:util";

/** What replaces a credential in any text the adapter produces. */
export const REDACTED = "[redacted]";

/** Alpaca's request headers for key authentication. */
export const KEY_HEADER = "APCA-API-KEY-ID";
/** Alpaca's request header for the secret. */
export const SECRET_HEADER = "APCA-API-SECRET-KEY";

/** A key id and secret that never print themselves. */
export class Credentials {
  readonly #keyId: string;
  readonly #secretKey: string;

  constructor(keyId: string, secretKey: string) {
    this.#keyId = keyId;
    this.#secretKey = secretKey;
  }

  /** The REST authentication headers. */
  headers(): Record<string, string> {
    return { [KEY_HEADER]: this.#keyId, [SECRET_HEADER]: this.#secretKey };
  }

  /** The trade_updates stream's `authenticate` frame. */
  authFrame(): string {
    return JSON.stringify({
      action: "authenticate",
      data: { key_id: this.#keyId, secret_key: this.#secretKey },
    });
  }

  /** `text` with every occurrence of the key id and the secret replaced by {@link REDACTED}. */
  redact(text: string): string {
    let out = text;
    for (const value of [this.#secretKey, this.#keyId]) {
      if (value.length > 0 && out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  }

  /** True if `text` contains the key id or the secret (for the adapter's own checks). */
  leaks(text: string): boolean {
    return text.includes(this.#keyId) || text.includes(this.#secretKey);
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Credentials { ${REDACTED} }`;
  }
}
