/**
 * Live updates: the router's `/events` stream (server-sent events, with the session cookie).
 * The browser's EventSource reconnects on its own and sends Last-Event-ID, so nothing is missed;
 * on `stream:reset` (the server no longer holds what we missed) everything is reloaded.
 */

import { apiBase } from "./api.js";
import { lastEvent, live, pending, refreshOverview, ticks } from "./state.js";

let source: EventSource | null = null;
let overviewTimer: number | null = null;

/** Reloads the overview at most every 300 ms, however many events arrive. */
function soonRefreshOverview(): void {
  if (overviewTimer !== null) return;
  overviewTimer = window.setTimeout(() => {
    overviewTimer = null;
    void refreshOverview();
  }, 300);
}

function bump(type: string): void {
  const area = type.split(":")[0];
  if (type === "stream:reset") {
    for (const t of Object.values(ticks)) t.value++;
    soonRefreshOverview();
    return;
  }
  if (area === "schedule" || area === "fire" || area === "run") {
    ticks.schedules.value++;
    ticks.executions.value++;
  }
  if (area === "approval") {
    ticks.approvals.value++;
    if (type === "approval:requested") pending.value++;
  }
  if (area === "order") ticks.orders.value++;
  if (area === "scheduler" || area === "approval" || area === "run" || area === "broker")
    soonRefreshOverview();
  ticks.audit.value++;
}

/** Opens the stream (idempotent). */
export function connectLive(): void {
  if (source) return;
  live.value = "connecting";
  source = new EventSource(`${apiBase}/events`, { withCredentials: true });
  source.onopen = () => {
    live.value = "connected";
  };
  source.onerror = () => {
    live.value = source?.readyState === EventSource.CLOSED ? "offline" : "connecting";
  };
  source.onmessage = (message) => {
    try {
      const envelope = JSON.parse(message.data) as { type: string; at: string };
      if (envelope.type !== "stream:open") lastEvent.value = { type: envelope.type, at: envelope.at };
      bump(envelope.type);
    } catch {
      // not ours; ignore
    }
  };
}

/** Closes the stream (on sign-out). */
export function disconnectLive(): void {
  source?.close();
  source = null;
  live.value = "offline";
}
