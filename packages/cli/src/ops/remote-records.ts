/**
 * The API's JSON back to core's records: the inverse of @tradecron/http's `dto.ts` (instants from
 * ISO 8601 strings to epoch ms), one pure function per record type, so the commands render what a
 * remote instance answers exactly as what direct mode reads from storage. User data (`data`,
 * `result`, `details`, `intent`, `supportingData`) passes through untouched.
 */

import type {
  ApprovalRecord,
  ControlRecord,
  ExecutionRecord,
  JsonValue,
  PreviewFire,
  ScheduleRecord,
  SkipReason,
  TriggerSpec,
} from "@tradecron/core";
import type { ApiComponents } from "@tradecron/http";

type Schemas = ApiComponents["schemas"];

/** An ISO 8601 instant as epoch ms. */
export function ms(iso: string): number {
  return Date.parse(iso);
}

/** An optional ISO 8601 instant as epoch ms, or null. */
export function msOrNull(iso: string | null | undefined): number | null {
  return iso === null || iso === undefined ? null : Date.parse(iso);
}

/** An execution. */
export function executionRecord(e: Schemas["Execution"]): ExecutionRecord {
  return {
    ...e,
    scheduledAt: ms(e.scheduledAt),
    claimedAt: ms(e.claimedAt),
    startedAt: msOrNull(e.startedAt),
    endedAt: msOrNull(e.endedAt),
    leaseExpiresAt: msOrNull(e.leaseExpiresAt),
    result: (e.result ?? null) as JsonValue | null,
    details: (e.details ?? null) as JsonValue | null,
  };
}

/** An approval. */
export function approvalRecord(a: Schemas["Approval"]): ApprovalRecord {
  return {
    ...a,
    intent: a.intent as JsonValue,
    supportingData: (a.supportingData ?? null) as JsonValue | null,
    createdAt: ms(a.createdAt),
    expiresAt: ms(a.expiresAt),
    decidedAt: msOrNull(a.decidedAt),
  };
}

function triggerSpec(t: Schemas["Trigger"]): TriggerSpec {
  switch (t.type) {
    case "interval":
      return { ...t, anchor: ms(t.anchor) };
    case "once":
      return { ...t, at: ms(t.at) };
    default:
      return t as TriggerSpec;
  }
}

/** A schedule, without the live `state` the API adds. */
export function scheduleRecord(s: Schemas["Schedule"]): ScheduleRecord {
  const { state: _state, ...rest } = s;
  return {
    ...rest,
    trigger: triggerSpec(s.trigger),
    data: (s.data ?? null) as JsonValue | null,
    risk: (s.risk ?? null) as ScheduleRecord["risk"],
    firesSince: ms(s.firesSince),
    createdAt: ms(s.createdAt),
    updatedAt: ms(s.updatedAt),
  };
}

/** A previewed fire. */
export function previewFire(f: Schemas["PreviewFire"]): PreviewFire {
  return {
    at: ms(f.at),
    iso: f.at,
    local: f.local,
    skip: f.skip as SkipReason | null,
    marketSkip: f.marketSkip as SkipReason | null,
  };
}

/** The emergency switch, from the controls the API answers. */
export function controlRecord(c: Schemas["Controls"]): ControlRecord {
  return {
    pausedAll: c.pausedAll,
    pausedAt: msOrNull(c.pausedAt),
    pausedBy: c.pausedBy,
    reason: c.reason,
    revision: c.revision,
  };
}
