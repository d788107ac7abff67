/**
 * Roles, from least to most: `viewer` reads, `operator` also approves, rejects, pauses and
 * triggers, `admin` also changes schedules. A route names the least role it needs.
 */

/** A token's role. */
export type Role = "viewer" | "operator" | "admin";

/** Every role, least first. */
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

/** True if `role` includes the rights of `needed`. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Who is calling: the token's name (the audit actor) and role. */
export interface Identity {
  /** The token's configured name; written to the audit log as the actor. */
  name: string;
  role: Role;
  /** How the caller proved it: a bearer token, a dashboard session cookie, or no auth at all (insecure opt-in). */
  via: "bearer" | "session" | "none";
  /** The session, when signed in through the dashboard. */
  session?: { csrfToken: string; expiresAt: number; id: string };
}
