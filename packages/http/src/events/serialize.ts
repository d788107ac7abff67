/**
 * Event payloads to JSON: records become their API shapes (ISO instants), errors become
 * `{ name, code, message }` (no stack), instants named `at`, `...At` become ISO strings.
 */

import {
  type ApprovalGroup,
  type ApprovalRecord,
  type ExecutionRecord,
  errorCode,
  type OrderRecord,
  type ScheduleRecord,
  TradecronError,
} from "@tradecron/core";
import { approvalDto, executionDto, iso, orderDto, scheduleDto } from "../dto.js";
import { approvalGroupDto } from "../schemas/approval-groups.js";
import type { Json } from "../schemas/common.js";

/** A schedule in an event carries no live state; the counters and times come from `/schedules`. */
const NO_STATE = {
  handled: false,
  nextFireAt: null,
  nextFireOnceResumedAt: null,
  lastStartAt: null,
  lastEndAt: null,
  lastStatus: null,
  lastSuccessAt: null,
  running: 0,
  counters: { fires: 0, succeeded: 0, failed: 0, skipped: 0, retries: 0 },
} as const;

function errorJson(error: unknown): Json {
  if (error instanceof Error) {
    return {
      name: error.name,
      code: error instanceof TradecronError ? String(error.code) : errorCode(error),
      message: error.message,
    };
  }
  return { name: "Error", code: null, message: String(error) };
}

/** The JSON form of one event payload. */
export function serializePayload(payload: Record<string, unknown>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    if (key === "schedule" || key === "previous") {
      out[key] = scheduleDto(value as ScheduleRecord, {
        ...NO_STATE,
        counters: { ...NO_STATE.counters },
      }) as unknown as Json;
    } else if (key === "execution") {
      out[key] = executionDto(value as ExecutionRecord) as unknown as Json;
    } else if (key === "approval") {
      out[key] = approvalDto(value as ApprovalRecord) as unknown as Json;
    } else if (key === "group") {
      out[key] = approvalGroupDto(value as ApprovalGroup) as unknown as Json;
    } else if (key === "order") {
      out[key] = orderDto(value as OrderRecord) as unknown as Json;
    } else if (key === "error") {
      out[key] = errorJson(value);
    } else if ((key === "at" || key.endsWith("At")) && typeof value === "number" && Number.isFinite(value)) {
      out[key] = iso(value);
    } else {
      out[key] = value as Json;
    }
  }
  return out;
}
