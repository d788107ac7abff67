/**
 * Checks of records read back from storage. A schedule file edited by hand or a row changed with
 * psql is input like any other: it is validated with the same schemas as `createSchedule` input
 * (plus the fields only a stored record has), so an invalid one is reported and never armed
 * instead of failing later with a raw RangeError, firing backwards or retrying NaN times.
 *
 * Every storage runs these on what it reads, and the scheduler runs them again on what it adopts
 * (for storages of your own). Valid frozen records are remembered, so a record checked by its
 * storage is not checked twice.
 */

import type { z } from "zod";
import { StorageError } from "../errors.js";
import { recordToInput, SCHEDULE_ID, scheduleInputSchema } from "../schedule/schedule-input.js";
import { MAX_INSTANT } from "../validation.js";
import type { ControlRecord, ScheduleRecord } from "./records.js";

/** Why a stored record cannot be used. */
export interface RecordProblem {
  /** The record's id when it could be read, else null. */
  id: string | null;
  /** Dotted path of the first offending field, empty for the record as a whole. */
  field: string;
  /** What is wrong, for people. */
  reason: string;
}

const isInstant = (v: unknown) => typeof v === "number" && Math.abs(v) <= MAX_INSTANT;

/**
 * The fields a stored schedule has beyond its input, and the canonical trigger's filled-in parts
 * (plain checks: they run for every schedule of a store at every open).
 */
function recordFieldProblem(r: Record<string, unknown>): { field: string; reason: string } | null {
  const bad = (field: string, what: string) => ({ field, reason: `${field}: must be ${what}` });
  if (typeof r.id !== "string" || !SCHEDULE_ID.test(r.id)) return bad("id", "a schedule id");
  if (typeof r.enabled !== "boolean") return bad("enabled", "a boolean");
  if (typeof r.paused !== "boolean") return bad("paused", "a boolean");
  for (const key of ["firesSince", "createdAt", "updatedAt"]) {
    if (!isInstant(r[key])) return bad(key, "an instant (epoch ms within the Date range)");
  }
  if (typeof r.revision !== "number" || !Number.isInteger(r.revision) || r.revision < 1) {
    return bad("revision", "an integer >= 1");
  }
  const t = r.trigger as Record<string, unknown> | null;
  if (typeof t !== "object" || t === null || typeof t.type !== "string") return bad("trigger", "a trigger");
  if (t.type === "interval") {
    for (const key of ["anchor", "jitter"]) {
      if (typeof t[key] !== "number") return bad(`trigger.${key}`, "a number in a stored interval");
    }
  }
  return null;
}

/** Input fields whose values are unique per schedule: not worth remembering results for. */
const UNIQUE_FIELDS = new Set(["data"]);

/** Codes of issues that depend on what this process registered (a custom calendar), not on the record. */
const REGISTRY_CODES = new Set(["UNKNOWN_CALENDAR"]);

const validSchedules = new WeakSet<object>();
const structurallyValid = new WeakSet<object>();

function firstIssue(
  issues: readonly z.core.$ZodIssue[],
  skip: (issue: z.core.$ZodIssue) => boolean,
): { field: string; reason: string } | null {
  for (const issue of issues) {
    if (skip(issue)) continue;
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") path.push(issue.keys[0] ?? "");
    const field = path.join(".");
    return { field, reason: `${field || "record"}: ${issue.message}` };
  }
  return null;
}

/** Results of field checks by field and value (policies and triggers repeat across schedules). */
const fieldResults = new Map<string, { field: string; reason: string } | null>();
const MAX_FIELD_RESULTS = 10_000;
const fields = scheduleInputSchema.shape as Record<string, z.ZodType>;

/**
 * The first issue of a schedule input, field by field with each field's own input schema (the
 * input schema has no cross-field rules). Object-valued fields other than `data` (the trigger,
 * the policies, tags, risk) are checked once per distinct value: they repeat across schedules, and
 * zod on them was most of the time of opening ten thousand schedules.
 */
function inputProblem(
  input: Record<string, unknown>,
  registry: boolean,
): { field: string; reason: string } | null {
  const skip = (issue: z.core.$ZodIssue) => {
    const code = (issue as { params?: { code?: string } }).params?.code;
    return !registry && code !== undefined && REGISTRY_CODES.has(code);
  };
  for (const [key, value] of Object.entries(input)) {
    const schema = fields[key] as z.ZodType;
    // Primitives parse faster than a cache key is built; objects (trigger, policies) are remembered.
    const cacheKey =
      typeof value !== "object" || value === null || UNIQUE_FIELDS.has(key)
        ? null
        : `${registry ? 1 : 0}${key}${JSON.stringify(value)}`;
    let result = cacheKey === null ? undefined : fieldResults.get(cacheKey);
    if (result === undefined) {
      const parsed = schema.safeParse(value);
      const issue = parsed.success ? null : firstIssue(parsed.error.issues, skip);
      result = issue && { field: issue.field ? `${key}.${issue.field}` : key, reason: "" };
      if (result && issue) result.reason = `${result.field}: ${issue.reason.replace(/^[^:]*: /, "")}`;
      if (cacheKey !== null) {
        if (fieldResults.size >= MAX_FIELD_RESULTS) fieldResults.clear();
        fieldResults.set(cacheKey, result);
      }
    }
    if (result) return result;
  }
  return null;
}

/**
 * Null if `raw` is a schedule record tradecron can arm, else the problem. With `registry: false`
 * (what storages use), issues that depend on this process's registrations (a calendar registered
 * at run time) are not problems: a storage must not set aside a record only because the host has
 * not registered its calendar yet. The scheduler checks with the registry.
 */
export function storedScheduleProblem(
  raw: unknown,
  options: { registry?: boolean } = {},
): RecordProblem | null {
  const registry = options.registry ?? true;
  const cache = registry ? validSchedules : structurallyValid;
  if (typeof raw === "object" && raw !== null && cache.has(raw)) return null;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { id: null, field: "", reason: "not an object" };
  }
  const r = raw as Record<string, unknown>;
  const id = typeof r.id === "string" ? r.id : null;
  const ownIssue = recordFieldProblem(r);
  if (ownIssue) return { id, ...ownIssue };
  // The input the record stands for (its own fields were checked above).
  const inputIssue = inputProblem(
    recordToInput(r as unknown as ScheduleRecord) as unknown as Record<string, unknown>,
    registry,
  );
  if (inputIssue) return { id, ...inputIssue };
  if (Object.isFrozen(raw)) {
    cache.add(raw);
    if (registry) structurallyValid.add(raw);
  }
  return null;
}

/** Null if `raw` is a readable control record, else why not. */
export function storedControlProblem(raw: unknown): string | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "not an object";
  const c = raw as Record<string, unknown>;
  if (typeof c.pausedAll !== "boolean")
    return `pausedAll is ${JSON.stringify(c.pausedAll) ?? "missing"}, not a boolean`;
  if (typeof c.revision !== "number" || !Number.isInteger(c.revision) || c.revision < 0) {
    return `revision is ${JSON.stringify(c.revision) ?? "missing"}, not an integer >= 0`;
  }
  if (c.pausedAt !== null && !(typeof c.pausedAt === "number" && Math.abs(c.pausedAt) <= MAX_INSTANT)) {
    return `pausedAt is ${JSON.stringify(c.pausedAt) ?? "missing"}, not an instant or null`;
  }
  for (const key of ["pausedBy", "reason"] as const) {
    if (c[key] !== null && typeof c[key] !== "string") {
      return `${key} is ${JSON.stringify(c[key]) ?? "missing"}, not a string or null`;
    }
  }
  return null;
}

/** The error a storage throws for a stored record it cannot use (code `STORAGE_CORRUPT`). */
export function corruptRecord(
  storage: string,
  subject: "schedule" | "control",
  id: string | null,
  reason: string,
): StorageError {
  const what = subject === "control" ? "the control record" : `schedule '${id ?? "?"}'`;
  return new StorageError("STORAGE_CORRUPT", `${storage}: ${what} cannot be used: ${reason}`, {
    details: { subject, id, reason },
  });
}

/** `raw` as a schedule record, or a `STORAGE_CORRUPT` error naming it and why (structural check). */
export function checkStoredSchedule(storage: string, raw: unknown): ScheduleRecord {
  const problem = storedScheduleProblem(raw, { registry: false });
  if (problem) throw corruptRecord(storage, "schedule", problem.id, problem.reason);
  return raw as ScheduleRecord;
}

/** `raw` as a control record, or a `STORAGE_CORRUPT` error saying why. */
export function checkStoredControl(storage: string, raw: unknown): ControlRecord {
  const problem = storedControlProblem(raw);
  if (problem) throw corruptRecord(storage, "control", null, problem);
  return raw as ControlRecord;
}

/** True for the error storages throw for an unusable stored record. */
export function isCorruptRecord(error: unknown): error is StorageError {
  return error instanceof StorageError && error.code === "STORAGE_CORRUPT";
}
