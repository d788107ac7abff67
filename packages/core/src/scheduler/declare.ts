/**
 * Declarative schedules: "these are the schedules that should exist". What every process start
 * needs (APScheduler's `replace_existing`, graphile-worker's crontab, `kubectl apply --prune`):
 * create what is missing, update what changed, leave what is equal untouched (no new revision, no
 * audit entry), and optionally remove the schedules an earlier declaration made that are no longer
 * declared.
 *
 * Built on the Scheduler's public methods only, so several instances may declare the same set at
 * the same moment on one storage: a `SCHEDULE_EXISTS` or `REVISION_CONFLICT` from a racing
 * instance is resolved by re-reading and comparing, never surfaced. The planning is a pure
 * function ({@link planDeclaration}); {@link declareSchedules} only performs the writes.
 */

import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { ConflictError, ValidationError, type ValidationIssue } from "../errors.js";
import { buildScheduleRecord, recordToInput, type ScheduleInput } from "../schedule/schedule-input.js";
import type { ScheduleRecord } from "../storage/records.js";
import { compileTrigger } from "../triggers/compile.js";
import { parseInput } from "../validation.js";
import type { Scheduler } from "./scheduler.js";

/** The tag {@link declareSchedules} puts on the schedules it manages, unless told another. */
export const DECLARED_TAG = "tradecron:declared";

/** How often one schedule's write is retried after losing a race before giving up. */
const MAX_RACE_ROUNDS = 8;

/** Options of {@link declareSchedules}. */
export interface DeclareOptions {
  /** Who declares, for the audit log of the writes. Default `system`. */
  actor?: string;
  /**
   * Remove the schedules that carry `tag` but are not in this declaration (a schedule deleted
   * from the config file disappears on the next start; its history stays). Schedules created
   * otherwise (through the API, without the tag) are never removed. Default false.
   */
  removeMissing?: boolean;
  /**
   * The tag that marks the schedules this declaration manages; it is added to every declared
   * schedule. Use one tag per independent declaration sharing a storage. Default {@link DECLARED_TAG}.
   */
  tag?: string;
}

/** What {@link declareSchedules} did, by schedule id (each list in declaration order, removals by id). */
export interface DeclareReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

/** One step of a declaration: what to do with one schedule id. */
export type DeclarationStep =
  | { action: "create"; id: string; record: ScheduleRecord }
  | { action: "update"; id: string; record: ScheduleRecord; previous: ScheduleRecord; changed: string[] }
  | { action: "unchanged"; id: string; record: ScheduleRecord }
  | { action: "remove"; id: string; previous: ScheduleRecord };

const optionsSchema = z.strictObject({
  actor: z.string().trim().min(1).max(200).default("system"),
  removeMissing: z.boolean().default(false),
  tag: z.string().min(1).max(100).default(DECLARED_TAG),
});

/**
 * The fields a declaration owns. `paused` is an operator's switch and survives re-declaration;
 * `revision`, `firesSince` and the timestamps are bookkeeping.
 */
const DECLARED_FIELDS = [
  "name",
  "job",
  "description",
  "tags",
  "trigger",
  "data",
  "enabled",
  "misfire",
  "overlap",
  "retry",
  "timeoutMs",
  "requiresApproval",
  "approvalExpiryMs",
  "risk",
  "requireBrokerConnection",
  "marketHoursOnly",
  "calendar",
] as const satisfies readonly (keyof ScheduleRecord)[];

/** The declared fields that differ between two records (deep, key order ignored). */
function changedFields(a: ScheduleRecord, b: ScheduleRecord): string[] {
  return DECLARED_FIELDS.filter((field) => !isDeepStrictEqual(plain(a[field]), plain(b[field])));
}

/** A JSON round trip: stored records may come back from JSON columns with other key orders or prototypes. */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function withTag(input: ScheduleInput, tag: string): ScheduleInput {
  const tags = input.tags ?? [];
  return { ...input, tags: tags.includes(tag) ? tags : [...tags, tag] };
}

/**
 * The record `input` declares, normalised as storage would hold it. For an existing schedule it is
 * built as of that schedule's creation, so an interval anchored at creation keeps its anchor.
 */
function declaredRecord(input: ScheduleInput, now: number, previous: ScheduleRecord | undefined) {
  return buildScheduleRecord(input, previous?.createdAt ?? now);
}

/**
 * Every problem of a declaration, found without writing anything: each input must carry a unique
 * id and build a valid record (with the tag added) whose trigger still fires. Fields are prefixed
 * with the input's position: `[2].trigger.expression`. Pure; hosts use it to check a config.
 */
export function declarationIssues(
  inputs: readonly ScheduleInput[],
  now: number,
  tag: string = DECLARED_TAG,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Map<string, number>();
  for (const [i, input] of inputs.entries()) {
    const at = `[${i}]`;
    if (!input || typeof input !== "object" || typeof input.id !== "string" || input.id === "") {
      issues.push({ field: `${at}.id`, code: "VALIDATION", message: "a declared schedule needs an id" });
      continue;
    }
    const first = seen.get(input.id);
    if (first !== undefined) {
      issues.push({
        field: `${at}.id`,
        code: "VALIDATION",
        message: `schedule '${input.id}' is declared twice (first at [${first}])`,
      });
      continue;
    }
    seen.set(input.id, i);
    try {
      const record = buildScheduleRecord(withTag(input, tag), now);
      if (compileTrigger(record.trigger, record.id).next(now) === null) {
        const once = record.trigger.type === "once";
        issues.push({
          field: `${at}.trigger.${once ? "at" : "expression"}`,
          code: once ? "INVALID_INSTANT" : "INVALID_CRON",
          message: "the trigger has no fire in the future",
        });
      }
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) {
        issues.push({ ...issue, field: issue.field ? `${at}.${issue.field}` : at });
      }
    }
  }
  return issues;
}

/** Validates a whole declaration before anything is written (one ValidationError listing every problem). */
function validateInputs(inputs: readonly ScheduleInput[], tag: string, now: number): ScheduleInput[] {
  if (!Array.isArray(inputs)) {
    throw new ValidationError(
      [{ field: "", code: "VALIDATION", message: "expected an array of schedules" }],
      {
        component: "declareSchedules",
      },
    );
  }
  const issues = declarationIssues(inputs, now, tag);
  if (issues.length > 0) throw new ValidationError(issues, { component: "declareSchedules" });
  return inputs.map((input) => withTag(input, tag));
}

/**
 * Plans a declaration against the stored schedules: a pure function of (stored, inputs, options,
 * now). Each input gets the tag, as {@link declareSchedules} stores it; steps come in input
 * order, removals last. Inputs are assumed valid (declareSchedules validates them first).
 */
export function planDeclaration(
  stored: readonly ScheduleRecord[],
  inputs: readonly ScheduleInput[],
  options: { tag: string; removeMissing: boolean },
  now: number,
): DeclarationStep[] {
  const byId = new Map(stored.map((r) => [r.id, r]));
  const steps: DeclarationStep[] = [];
  const declared = new Set<string>();
  for (const untagged of inputs) {
    const input = withTag(untagged, options.tag);
    const id = input.id as string;
    declared.add(id);
    const previous = byId.get(id);
    const record = declaredRecord(input, now, previous);
    if (!previous) {
      steps.push({ action: "create", id, record: buildScheduleRecord(input, now) });
      continue;
    }
    const changed = changedFields(record, previous);
    steps.push(
      changed.length === 0
        ? { action: "unchanged", id, record: previous }
        : { action: "update", id, record, previous, changed },
    );
  }
  if (options.removeMissing) {
    for (const previous of stored) {
      if (!declared.has(previous.id) && previous.tags.includes(options.tag)) {
        steps.push({ action: "remove", id: previous.id, previous });
      }
    }
  }
  return steps;
}

/** Every declared field of `record` as an update, so the update replaces what the declaration owns. */
function fullUpdate(record: ScheduleRecord) {
  const { id: _id, ...update } = recordToInput(record);
  return update;
}

/** By code, not class: a storage adapter may have been loaded with another copy of core. */
function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * Makes the stored schedules match `inputs`: creates the missing ones, updates the ones that
 * differ (with the expected revision), leaves equal ones untouched, and with `removeMissing`
 * removes the schedules carrying the declaration's tag that are no longer declared. Every input is
 * validated before the first write. The missing schedules are created together, through
 * `Scheduler.createSchedules` (one storage write; audited as `schedule.create_batch`). Safe to run from several instances at once: a lost race is
 * resolved by re-reading and comparing, so the set ends up written once.
 *
 * The config is the source of truth for what it declares: a field changed through the API is set
 * back on the next declaration. A schedule's `paused` state is not declared and is kept.
 */
export async function declareSchedules(
  scheduler: Scheduler,
  inputs: readonly ScheduleInput[],
  options: DeclareOptions = {},
): Promise<DeclareReport> {
  const o = parseInput(optionsSchema, options, "declareSchedules", "options");
  const tagged = validateInputs(inputs, o.tag, scheduler.clock.now());
  const stored = await scheduler.listSchedules();
  const steps = planDeclaration(stored, tagged, o, scheduler.clock.now());
  const report: DeclareReport = { created: [], updated: [], unchanged: [], removed: [] };
  const inputById = new Map(tagged.map((input) => [input.id as string, input]));
  const created = await createTogether(scheduler, steps, inputById, o.actor);
  for (const step of steps) {
    if (created && step.action === "create") {
      report.created.push(step.id);
      continue;
    }
    if (step.action === "remove") {
      try {
        await scheduler.removeSchedule(step.id, { actor: o.actor });
        report.removed.push(step.id);
      } catch (error) {
        // Removed by a racing instance already: the outcome wanted.
        if (!isCode(error, "SCHEDULE_NOT_FOUND")) throw error;
      }
      continue;
    }
    const outcome = await converge(scheduler, inputById.get(step.id) as ScheduleInput, step, o);
    report[outcome].push(step.id);
  }
  return report;
}

/**
 * Creates every missing schedule of a declaration in one `createSchedules` call (one validation
 * pass, one storage write, one audit entry per 500). True when it did; false when there was
 * nothing to create or a racing instance created one of them first (`SCHEDULE_EXISTS`: the batch
 * wrote none of them), in which case each is then resolved on its own, as before the bulk path.
 */
async function createTogether(
  scheduler: Scheduler,
  steps: readonly DeclarationStep[],
  inputById: ReadonlyMap<string, ScheduleInput>,
  actor: string,
): Promise<boolean> {
  const inputs = steps.filter((s) => s.action === "create").map((s) => inputById.get(s.id) as ScheduleInput);
  if (inputs.length === 0) return false;
  try {
    await scheduler.createSchedules(inputs, { actor });
    return true;
  } catch (error) {
    if (isCode(error, "SCHEDULE_EXISTS")) return false;
    throw error;
  }
}

/**
 * Writes one declared schedule until storage holds it: create or update, and after a lost race
 * (created or changed meanwhile by another instance) re-read and compare again.
 */
async function converge(
  scheduler: Scheduler,
  input: ScheduleInput,
  first: Exclude<DeclarationStep, { action: "remove" }>,
  { actor, tag }: { actor: string; tag: string },
): Promise<"created" | "updated" | "unchanged"> {
  let step: Exclude<DeclarationStep, { action: "remove" }> = first;
  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    try {
      if (step.action === "unchanged") return "unchanged";
      if (step.action === "create") {
        await scheduler.createSchedule(input, { actor });
        return "created";
      }
      await scheduler.updateSchedule(step.id, fullUpdate(step.record), {
        actor,
        expectedRevision: step.previous.revision,
      });
      return "updated";
    } catch (error) {
      const lostRace =
        isCode(error, "SCHEDULE_EXISTS") ||
        isCode(error, "REVISION_CONFLICT") ||
        isCode(error, "SCHEDULE_NOT_FOUND");
      if (!lostRace) throw error;
    }
    const current = await scheduler.getSchedule(step.id).catch((error: unknown) => {
      if (isCode(error, "SCHEDULE_NOT_FOUND")) return undefined;
      throw error;
    });
    const [next] = planDeclaration(
      current ? [current] : [],
      [input],
      { tag, removeMissing: false },
      scheduler.clock.now(),
    );
    step = next as Exclude<DeclarationStep, { action: "remove" }>;
  }
  throw new ConflictError(
    "REVISION_CONFLICT",
    `declareSchedules: schedule '${first.id}' kept changing under ${MAX_RACE_ROUNDS} attempts to write it`,
    { field: "id", details: { id: first.id } },
  );
}
