/**
 * Who is calling: a bearer token, or a dashboard session cookie, or (only when the host opted in
 * explicitly) nobody in particular. Framework-neutral: it reads two header values. A bearer token
 * that is present but wrong is a failure even when a valid cookie comes with it.
 */

import { parse as parseCookies } from "cookie";
import type { Identity, Role } from "./roles.js";
import type { NewSession, SessionStore } from "./sessions.js";
import { bearerToken, type TokenVerifier } from "./tokens.js";

/** What the authenticator needs to read from a request. */
export interface AuthHeaders {
  authorization?: string | undefined;
  cookie?: string | undefined;
}

/** Outcome of authenticating a request. */
export type AuthOutcome = { ok: true; identity: Identity } | { ok: false; reason: "missing" | "invalid" };

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  /** null when auth is switched off by the host's explicit opt-in. */
  tokens: TokenVerifier | null;
  sessions: SessionStore;
  cookieName: string;
  /** Identity every request gets when auth is off. */
  insecureIdentity: { name: string; role: Role };
}

/** Authenticates requests and signs dashboard sessions in and out. */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /** True when the host switched auth off. */
  get insecure(): boolean {
    return this.options.tokens === null;
  }

  /** Name of the session cookie. */
  get cookieName(): string {
    return this.options.cookieName;
  }

  /** Identifies the caller from its headers. */
  authenticate(headers: AuthHeaders): AuthOutcome {
    const { tokens, sessions } = this.options;
    if (tokens === null) return { ok: true, identity: { ...this.options.insecureIdentity, via: "none" } };
    if (headers.authorization !== undefined) {
      const token = bearerToken(headers.authorization);
      const identity = token === null ? null : tokens.verify(token);
      return identity ? { ok: true, identity } : { ok: false, reason: "invalid" };
    }
    const value = this.sessionCookie(headers.cookie);
    if (value !== null) {
      const identity = sessions.resolve(value);
      return identity ? { ok: true, identity } : { ok: false, reason: "invalid" };
    }
    return { ok: false, reason: "missing" };
  }

  /** Exchanges a bearer token for a new session, or null when the token is wrong. */
  signIn(token: string): (NewSession & { identity: Identity }) | null {
    const { tokens, sessions } = this.options;
    if (tokens === null) return null;
    const identity = tokens.verify(token);
    if (!identity) return null;
    const session = sessions.create(identity);
    return {
      ...session,
      identity: {
        ...identity,
        via: "session",
        session: { csrfToken: session.csrfToken, expiresAt: session.expiresAt, id: "" },
      },
    };
  }

  /** Ends the caller's session (no-op for bearer callers). */
  signOut(identity: Identity): void {
    this.options.sessions.destroy(identity);
  }

  /**
   * True if a mutation by `identity` carries what it must against cross-site requests: session
   * callers the session's CSRF token; bearer callers need none (a browser never attaches one on
   * its own).
   */
  csrfOk(identity: Identity, presented: string | undefined): boolean {
    if (identity.via !== "session") return true;
    return this.options.sessions.checkCsrf(identity, presented);
  }

  private sessionCookie(header: string | undefined): string | null {
    if (typeof header !== "string" || header.length === 0 || header.length > 8192) return null;
    try {
      const value = parseCookies(header)[this.options.cookieName];
      return typeof value === "string" && value.length > 0 ? value : null;
    } catch {
      return null;
    }
  }
}
