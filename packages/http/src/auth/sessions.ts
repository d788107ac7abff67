/**
 * Dashboard sessions: a bearer token is exchanged once for a random session id, sent back as an
 * HttpOnly, SameSite=Strict cookie, with a CSRF token the dashboard sends on every mutation. The
 * store keeps only the SHA-256 of each session id, so a heap dump or a log of the map holds
 * nothing a browser could replay. Bounded: past `maxSessions` the oldest is dropped.
 */

import { randomBytes } from "node:crypto";
import type { Clock } from "@tradecron/core";
import type { Identity, Role } from "./roles.js";
import { safeEqual, sha256 } from "./tokens.js";

interface StoredSession {
  name: string;
  role: Role;
  csrfToken: string;
  expiresAt: number;
}

/** A session just created: the cookie value goes to the browser once and is not kept. */
export interface NewSession {
  cookieValue: string;
  csrfToken: string;
  expiresAt: number;
}

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  clock: Clock;
  ttlMs: number;
  maxSessions: number;
}

/** Session ids are 32 random bytes, base64url: 43 characters. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** In-memory session store (one per router). */
export class SessionStore {
  private readonly sessions = new Map<string, StoredSession>();

  constructor(private readonly options: SessionStoreOptions) {}

  /** Starts a session for `identity`. */
  create(identity: { name: string; role: Role }): NewSession {
    this.sweep();
    while (this.sessions.size >= this.options.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const cookieValue = randomBytes(32).toString("base64url");
    const csrfToken = randomBytes(32).toString("base64url");
    const expiresAt = this.options.clock.now() + this.options.ttlMs;
    this.sessions.set(this.keyOf(cookieValue), {
      name: identity.name,
      role: identity.role,
      csrfToken,
      expiresAt,
    });
    return { cookieValue, csrfToken, expiresAt };
  }

  /** The identity of a session cookie, or null when unknown or expired. */
  resolve(cookieValue: string): Identity | null {
    if (!COOKIE_VALUE.test(cookieValue)) return null;
    const key = this.keyOf(cookieValue);
    const s = this.sessions.get(key);
    if (!s) return null;
    if (s.expiresAt <= this.options.clock.now()) {
      this.sessions.delete(key);
      return null;
    }
    return {
      name: s.name,
      role: s.role,
      via: "session",
      session: { csrfToken: s.csrfToken, expiresAt: s.expiresAt, id: key },
    };
  }

  /** True if `presented` is the session's CSRF token (constant time). */
  checkCsrf(identity: Identity, presented: string | undefined): boolean {
    if (!identity.session || typeof presented !== "string" || presented.length > 200) return false;
    return safeEqual(presented, identity.session.csrfToken);
  }

  /** Ends a session. */
  destroy(identity: Identity): void {
    if (identity.session) this.sessions.delete(identity.session.id);
  }

  /** Sessions alive. */
  get size(): number {
    this.sweep();
    return this.sessions.size;
  }

  private keyOf(cookieValue: string): string {
    return sha256(cookieValue).toString("hex");
  }

  /** Drops expired sessions (insertion order is creation order, and every TTL is the same). */
  private sweep(): void {
    const now = this.options.clock.now();
    for (const [key, s] of this.sessions) {
      if (s.expiresAt > now) break;
      this.sessions.delete(key);
    }
  }
}
