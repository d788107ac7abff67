/** Formatting for people (tables) and for scripts (`--json`: instants as ISO 8601 UTC strings). */

import type { ScheduleRecord } from "@tradecron/core";

/** `2026-01-05 16:35:00Z`, or `-` for none. */
export function when(t: number | null | undefined): string {
  if (t === null || t === undefined) return "-";
  return `${new Date(t).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** `1.2 s`, `340 ms`, `-`. */
export function duration(start: number | null, end: number | null): string {
  if (start === null || end === null) return "-";
  const ms = end - start;
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

/** A trigger in a few words: `cron 35 16 * * * UTC`, `every 30s`, `at 2026-...`, `XNYS close -30m`. */
export function describeTrigger(trigger: ScheduleRecord["trigger"]): string {
  switch (trigger.type) {
    case "cron":
      return `cron ${trigger.expression} ${trigger.timezone}`;
    case "interval":
      return `every ${trigger.every % 1000 === 0 ? `${trigger.every / 1000}s` : `${trigger.every}ms`}`;
    case "once":
      return `at ${when(trigger.at)}`;
    default: {
      const t = trigger as { calendar?: string; event?: string; offsetMinutes?: number };
      const off = t.offsetMinutes ? ` ${t.offsetMinutes > 0 ? "+" : ""}${t.offsetMinutes}m` : "";
      return `${t.calendar ?? "market"} ${t.event ?? ""}${off}`.trim();
    }
  }
}

const INSTANT_KEY = /(At|Since)$|^(at|anchor)$/;

/**
 * The value with every epoch-ms instant field (`scheduledAt`, `endedAt`, `firesSince`, ...) as an
 * ISO string, recursively: what `--json` prints, and what the HTTP API answers, so scripts see
 * the same shape whichever way a command went.
 */
export function jsonView(value: unknown, key = ""): unknown {
  if (typeof value === "number" && INSTANT_KEY.test(key) && Number.isFinite(value)) {
    return new Date(value).toISOString();
  }
  if (Array.isArray(value)) return value.map((v) => jsonView(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonView(v, k)]));
  }
  return value;
}
