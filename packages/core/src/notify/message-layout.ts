/**
 * What every medium shows of a notification, before the medium's own syntax: the severity as a
 * label, an emoji and a colour; the structured `data` as readable fields (strings as they are,
 * anything else as compact JSON, marked `code` so a medium can set it in monospace); a dashboard
 * link when the host gave its address; and cutting text to a medium's limit without splitting a
 * character or an escape.
 */

import { z } from "zod";
import type { JsonValue } from "../storage/records.js";
import type { Notification, NotificationSeverity } from "./notifier.js";

/** How a severity is shown. */
export interface SeverityStyle {
  label: string;
  emoji: string;
  /** 0xRRGGBB. */
  color: number;
  /** `#rrggbb`. */
  hex: string;
}

/** Severity styles: blue, amber, red. */
export const SEVERITY_STYLES: Readonly<Record<NotificationSeverity, SeverityStyle>> = Object.freeze({
  info: { label: "INFO", emoji: "🔵", color: 0x2e90fa, hex: "#2e90fa" },
  warning: { label: "WARNING", emoji: "🟠", color: 0xf79009, hex: "#f79009" },
  critical: { label: "CRITICAL", emoji: "🔴", color: 0xd92d20, hex: "#d92d20" },
});

/** One top-level entry of `data`. */
export interface DataField {
  name: string;
  /** The string itself, or compact JSON. */
  value: string;
  /** True when `value` is JSON (set it in monospace). */
  code: boolean;
}

/** A notification laid out for people. */
export interface MessageLayout {
  subject: string;
  body: string;
  severity: NotificationSeverity;
  style: SeverityStyle;
  kind: string;
  timestamp: string;
  /** `data`'s entries, when it is a plain object with 1 to {@link MAX_DATA_FIELDS} keys. */
  fields: DataField[];
  /** Pretty JSON of any other non-null `data` (arrays, scalars, empty or very wide objects). */
  dataBlock: string | null;
  /** The dashboard, when its address is known. */
  link: string | null;
}

/** Most `data` keys shown as fields; wider objects are shown as one JSON block. */
export const MAX_DATA_FIELDS = 20;

/** What a cut text ends with. */
export const TRUNCATED = "… [truncated]";

/** A URL string whose protocol is one of `protocols` (`["http:", "https:"]`), refused with `message`. */
export function urlSchema(protocols: readonly string[], message: string) {
  const ok = (u: string) => {
    try {
      return protocols.includes(new URL(u).protocol);
    } catch {
      return false;
    }
  };
  return z.string().trim().refine(ok, { message });
}

/** Option `dashboardUrl`: an http(s) URL. */
export const dashboardUrlSchema = urlSchema(["http:", "https:"], "must be an http or https URL");

/** A string shown as it is; anything else (and an empty or blank string) as JSON. */
function field(name: string, value: JsonValue): DataField {
  if (typeof value === "string" && value.trim() !== "") return { name, value, code: false };
  return { name, value: JSON.stringify(value), code: true };
}

/** Lays `n` out for people. */
export function layoutNotification(n: Notification, dashboardUrl: string | null = null): MessageLayout {
  const data = n.data;
  const entries =
    data !== null && typeof data === "object" && !Array.isArray(data) ? Object.entries(data) : null;
  const asFields = entries !== null && entries.length > 0 && entries.length <= MAX_DATA_FIELDS;
  return {
    subject: n.subject,
    body: n.body,
    severity: n.severity,
    style: SEVERITY_STYLES[n.severity],
    kind: n.kind,
    timestamp: n.timestamp,
    fields: asFields ? entries.map(([k, v]) => field(k, v as JsonValue)) : [],
    dataBlock: data === null || asFields ? null : JSON.stringify(data, null, 2),
    link: dashboardUrl,
  };
}

/**
 * `raw` escaped by `escapeText`, cut so that the result is at most `max` long (measured by `measure`,
 * default UTF-16 length, which is never less than the code point count services count in). A cut
 * ends at a code point boundary, before escaping, and carries `marker`.
 */
export function fitText(
  raw: string,
  max: number,
  escapeText: (s: string) => string = (s) => s,
  measure: (s: string) => number = (s) => s.length,
  marker = TRUNCATED,
): string {
  const whole = escapeText(raw);
  if (measure(whole) <= max) return whole;
  const points = Array.from(raw);
  const fits = (k: number) => measure(escapeText(points.slice(0, k).join("")) + marker) <= max;
  if (!fits(0)) return Array.from(marker).slice(0, Math.max(0, max)).join("");
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return escapeText(points.slice(0, lo).join("")) + marker;
}
