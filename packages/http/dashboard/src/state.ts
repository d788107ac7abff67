/**
 * The dashboard's shared state, as signals: who is signed in, the scheduler's status and
 * controls (for the pause-all banner), the pending count (the badge on every page), the current
 * route, a clock for countdowns, and a counter per area that live events bump so views refetch.
 */

import { computed, signal } from "@preact/signals";
import { api, type Controls, type SessionInfo, type Status, setCsrf, unwrap } from "./api.js";

/** The signed-in caller, null before sign-in. */
export const session = signal<SessionInfo | null>(null);
/** True until the first session check has answered. */
export const checkingSession = signal(true);
export const status = signal<Status | null>(null);
export const controls = signal<Controls | null>(null);
export const pending = signal(0);
/** Wall clock for countdowns, ticking every second. */
export const now = signal(Date.now());
/** "connected", "connecting" or "offline": the event stream's state. */
export const live = signal<"connected" | "connecting" | "offline">("connecting");
/** Type and time of the last live event. */
export const lastEvent = signal<{ type: string; at: string } | null>(null);
/** Bumped by live events; views that show an area refetch when its counter moves. */
export const ticks = {
  schedules: signal(0),
  executions: signal(0),
  approvals: signal(0),
  orders: signal(0),
  audit: signal(0),
};
/** Messages for the polite live region. */
export const notice = signal<{ text: string; kind: "info" | "error" } | null>(null);

const RANK = { viewer: 0, operator: 1, admin: 2 } as const;
/** True if the caller's role includes `role`. */
export const can = (role: keyof typeof RANK) =>
  computed(() => (session.value ? RANK[session.value.role] >= RANK[role] : false));
export const canOperate = can("operator");
export const canAdmin = can("admin");

/** Shows a message in the live region. */
export function say(text: string, kind: "info" | "error" = "info"): void {
  const shown = { text, kind };
  notice.value = shown;
  window.setTimeout(() => {
    if (notice.value === shown) notice.value = null;
  }, 8000);
}

/** Reloads status, controls and the pending count. */
export async function refreshOverview(): Promise<void> {
  try {
    const [s, c, p] = await Promise.all([
      api.GET("/status").then(unwrap),
      api.GET("/controls").then(unwrap),
      api.GET("/approvals/pending-count").then(unwrap),
    ]);
    status.value = s;
    controls.value = c;
    pending.value = p.pending;
  } catch (error) {
    if ((error as { status?: number }).status === 401) signOutLocally();
  }
}

/** Forgets the session (after a sign-out or an expired cookie). */
export function signOutLocally(): void {
  session.value = null;
  setCsrf(null);
}

/** Asks the API who we are (the cookie survives reloads; the CSRF token comes back with it). */
export async function checkSession(): Promise<void> {
  try {
    const me = await api.GET("/auth/session").then(unwrap);
    session.value = me;
    setCsrf(me.csrfToken ?? null);
  } catch {
    signOutLocally();
  } finally {
    checkingSession.value = false;
  }
}
