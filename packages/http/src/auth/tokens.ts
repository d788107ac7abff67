/**
 * Bearer tokens: configured by the host, never defaulted. Each is kept only as its SHA-256
 * digest; a presented token is hashed, then compared with every configured digest in constant
 * time (hashing first gives equal lengths, so `timingSafeEqual` never throws and no length
 * leaks; comparing with all of them hides which one matched).
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Identity, Role } from "./roles.js";

/** A configured token, as the verifier keeps it. */
interface StoredToken {
  name: string;
  role: Role;
  digest: Buffer;
}

/** Tokens longer than this are refused before hashing: no configured token is that long. */
export const MAX_TOKEN_LENGTH = 1024;

/** SHA-256 of a string's UTF-8 bytes. */
export function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Constant-time equality of two strings (compares their digests). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** A token given to {@link TokenVerifier}: the token itself, or its SHA-256 digest in hex. */
export interface TokenSpec {
  name: string;
  role: Role;
  token?: string;
  sha256?: string;
}

/** Checks bearer tokens against the configured set. */
export class TokenVerifier {
  private readonly tokens: StoredToken[];

  constructor(specs: readonly TokenSpec[]) {
    this.tokens = specs.map((s) => ({
      name: s.name,
      role: s.role,
      digest: s.token !== undefined ? sha256(s.token) : Buffer.from(s.sha256 ?? "", "hex"),
    }));
  }

  /** The identity of `token`, or null when it matches none. */
  verify(token: string): Identity | null {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const digest = sha256(token);
    let found: StoredToken | null = null;
    for (const t of this.tokens) {
      // Every configured token is compared, whichever matches.
      if (timingSafeEqual(digest, t.digest) && found === null) found = t;
    }
    return found ? { name: found.name, role: found.role, via: "bearer" } : null;
  }

  /** Number of configured tokens. */
  get size(): number {
    return this.tokens.length;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (typeof header !== "string") return null;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match ? (match[1] as string) : null;
}
