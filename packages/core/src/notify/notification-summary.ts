/**
 * Coalescing: during a storm, notifications of one kind that cannot be sent one by one are counted
 * in a {@link SummaryBucket}, and one summary notification tells the channel what it missed
 * ("989 more run_failed notifications suppressed in the last minute"), with the subjects of the
 * first few and of the last. Pure: the policy (notify-policy.ts) decides when.
 */

import type { JsonValue } from "../storage/records.js";
import type { Notification, NotificationKind, NotificationSeverity } from "./notifier.js";

/** The kind of a summary notification. */
export const SUMMARY_KIND = "notifications_suppressed";

/** Subjects listed by name in a summary (the first ones; the last is always named too). */
export const SUMMARY_SAMPLES = 5;

const RANK: Record<NotificationSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** Notifications of one kind folded together while its channel is saturated. */
export class SummaryBucket {
  count = 0;
  /** The first one in full: a bucket of one is delivered as itself. */
  first: Notification | null = null;
  last: Notification | null = null;
  readonly samples: Notification[] = [];
  readonly bySeverity: Record<NotificationSeverity, number> = { info: 0, warning: 0, critical: 0 };

  constructor(
    readonly kind: NotificationKind,
    /** When the bucket opened (epoch ms). */
    readonly openedAt: number,
  ) {}

  add(n: Notification): void {
    this.count += 1;
    this.first ??= n;
    this.last = n;
    if (this.samples.length < SUMMARY_SAMPLES) this.samples.push(n);
    this.bySeverity[n.severity] += 1;
  }

  /** The most urgent severity folded in. */
  get severity(): NotificationSeverity {
    if (this.bySeverity.critical > 0) return "critical";
    return this.bySeverity.warning > 0 ? "warning" : "info";
  }
}

/** "the last minute", "the last 45 s", "the last 2 minutes". */
export function describeSpan(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) {
    const minutes = ms / 60_000;
    return minutes === 1 ? "the last minute" : `the last ${minutes} minutes`;
  }
  return `the last ${Math.max(1, Math.round(ms / 1000))} s`;
}

/**
 * The summary of `bucket` at `now`: subject with the count, the kind and the span; a body naming
 * the first subjects and the last; `data` for machines. `reason` says why (the rate limit in force).
 */
export function summaryNotification(bucket: SummaryBucket, now: number, reason: string): Notification {
  const { count, kind } = bucket;
  const span = describeSpan(now - bucket.openedAt);
  const line = (n: Notification) => `• ${n.subject} (${n.timestamp})`;
  const named = bucket.samples.map(line);
  const unnamed = count - bucket.samples.length;
  if (unnamed > 0 && bucket.last) {
    if (unnamed > 1) named.push(`… ${unnamed - 1} more not listed`);
    named.push(line(bucket.last));
  }
  const ranks = Object.entries(bucket.bySeverity)
    .filter(([, c]) => c > 0)
    .sort(([a], [b]) => RANK[b as NotificationSeverity] - RANK[a as NotificationSeverity])
    .map(([s, c]) => `${c} ${s}`)
    .join(", ");
  const pick = (n: Notification) => ({ subject: n.subject, timestamp: n.timestamp }) as JsonValue;
  return {
    subject: `${count} more ${kind} notification${count === 1 ? "" : "s"} suppressed in ${span}`,
    body: `Not sent one by one (${reason}); only their subjects are kept (${ranks}):\n${named.join("\n")}`,
    timestamp: new Date(now).toISOString(),
    severity: bucket.severity,
    kind: SUMMARY_KIND,
    data: {
      suppressedKind: kind,
      count,
      from: new Date(bucket.openedAt).toISOString(),
      to: new Date(now).toISOString(),
      bySeverity: { ...bucket.bySeverity },
      first: bucket.samples.map(pick),
      last: bucket.last ? pick(bucket.last) : null,
      reason,
    },
  };
}
