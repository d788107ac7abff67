/**
 * The storage contract every backend implements (MemoryStorage, FileStorage, SqliteStorage,
 * PostgresStorage). The conformance suite in `@tradecron/core/testing` is its executable form.
 *
 * Rules every implementation keeps:
 * - Writes are atomic; an acknowledged write survives what the backend promises to survive.
 * - `claimFire` decides exactly-once: for one (scheduleId, scheduledAt) at most one caller
 *   ever gets `claimed: true`, however many race (in one process or many).
 * - Records handed out are copies or frozen: callers never mutate stored state by accident.
 * - Records read back are checked with core's record checks (`checkStoredSchedule`,
 *   `checkStoredControl`, the same schemas as the scheduler's input): a stored schedule that fails
 *   them is never handed out as if it were fine, and an unreadable control record never reads as
 *   "not paused". What a storage could not trust is listed by {@link Storage.issues}.
 * - Failures throw a {@link StorageError} (or a ConflictError/NotFoundError where stated).
 */

import type { ExecutionPrune, RecordPrune } from "./prune.js";
import type {
  ApprovalRecord,
  ApprovalStatus,
  AuditEntry,
  ControlRecord,
  ExecutionRecord,
  ExecutionStatus,
  FireKind,
  OrderRecord,
  Page,
  RiskLevel,
  ScheduleRecord,
} from "./records.js";
import type { ScheduleStateRecord, StateCommit } from "./schedule-state.js";

/** A request to claim one fire. */
export interface FireClaim {
  /** The record to create if the fire is free (status `claimed`, `running` or `skipped`). */
  execution: ExecutionRecord;
  /**
   * Also hand back the schedule's committed state with a won claim (`state` of the result), read
   * in the same call: the run that follows needs it and would otherwise pay a second round trip.
   * A storage may ignore it (leave `state` undefined); the scheduler then reads it itself. A
   * stored state failing its checks is also left undefined (never thrown: the claim stands), so
   * the scheduler's own `getScheduleState` reports it as `STORAGE_CORRUPT`.
   */
  withState?: boolean;
  /**
   * Also tell, with a won claim, whether another execution of the schedule was active (status
   * `claimed` or `running`) as the claim was decided (`othersActive` of the result): the overlap
   * policy's question, answered in the same call instead of an `activeExecutions` read after
   * it. A storage may ignore it (leave `othersActive` undefined); the scheduler then reads. The
   * answer may come from a snapshot taken as the claim began (PostgreSQL): a claim of another
   * fire of the schedule that commits meanwhile on another handle is not seen, so the scheduler
   * trusts a `false` only while it is the only live instance (`heartbeat`).
   */
  withOverlap?: boolean;
}

/** Outcome of {@link Storage.claimFire}. */
export type ClaimResult =
  | {
      claimed: true;
      execution: ExecutionRecord;
      /**
       * With `withState`: the schedule's committed state as {@link Storage.getScheduleState}
       * returns it (null: none yet). Undefined when not asked for or not supported.
       */
      state?: ScheduleStateRecord | null;
      /**
       * With `withOverlap`: true if another execution of the schedule was active when the claim
       * was decided (then the scheduler asks `activeExecutions` which), false if none was.
       * Undefined when not asked for or not supported.
       */
      othersActive?: boolean;
    }
  | { claimed: false; existing: ExecutionRecord };

/** A fire by its key: the schedule and the instant it is due (as in an execution record). */
export interface FireRef {
  scheduleId: string;
  scheduledAt: number;
}

/** Fields a lease holder may change on its execution. */
export type ExecutionPatch = Partial<
  Pick<
    ExecutionRecord,
    | "status"
    | "reason"
    | "attempts"
    | "startedAt"
    | "endedAt"
    | "leaseExpiresAt"
    | "error"
    | "result"
    | "details"
  >
>;

/** The fields of an execution its holder may change: adapters apply these keys of a patch and no others. */
export const EXECUTION_PATCH_KEYS = [
  "status",
  "reason",
  "attempts",
  "startedAt",
  "endedAt",
  "leaseExpiresAt",
  "error",
  "result",
  "details",
] as const satisfies readonly (keyof ExecutionPatch)[];

/** Copies only the {@link EXECUTION_PATCH_KEYS} of a patch, so a stray `scheduleId` cannot move a fire. */
export function pickExecutionPatch(patch: ExecutionPatch): ExecutionPatch {
  const out: Record<string, unknown> = {};
  for (const key of EXECUTION_PATCH_KEYS) if (key in patch) out[key] = patch[key];
  return out as ExecutionPatch;
}

/**
 * `current` with the {@link EXECUTION_PATCH_KEYS} of `patch` applied (a key present with
 * `undefined` sets it so, as a spread would). Written out field by field: the outcome write of
 * every fire makes one, and a spread followed by keyed stores costs several times as much.
 */
export function applyExecutionPatch(current: ExecutionRecord, patch: ExecutionPatch): ExecutionRecord {
  return {
    id: current.id,
    scheduleId: current.scheduleId,
    job: current.job,
    scheduledAt: current.scheduledAt,
    kind: current.kind,
    status: "status" in patch ? (patch.status as ExecutionRecord["status"]) : current.status,
    reason: "reason" in patch ? (patch.reason as ExecutionRecord["reason"]) : current.reason,
    attempts: "attempts" in patch ? (patch.attempts as number) : current.attempts,
    claimedAt: current.claimedAt,
    startedAt: "startedAt" in patch ? (patch.startedAt as ExecutionRecord["startedAt"]) : current.startedAt,
    endedAt: "endedAt" in patch ? (patch.endedAt as ExecutionRecord["endedAt"]) : current.endedAt,
    instanceId: current.instanceId,
    leaseExpiresAt:
      "leaseExpiresAt" in patch
        ? (patch.leaseExpiresAt as ExecutionRecord["leaseExpiresAt"])
        : current.leaseExpiresAt,
    actor: current.actor,
    error: "error" in patch ? (patch.error as ExecutionRecord["error"]) : current.error,
    result: "result" in patch ? (patch.result as ExecutionRecord["result"]) : current.result,
    details: "details" in patch ? (patch.details as ExecutionRecord["details"]) : current.details,
    idempotencyKey: current.idempotencyKey,
  };
}

/** Filters for listing executions; newest `scheduledAt` first. */
export interface ExecutionQuery {
  scheduleId?: string;
  status?: ExecutionStatus | ExecutionStatus[];
  kind?: FireKind | FireKind[];
  /** Inclusive lower bound on `scheduledAt`. */
  from?: number;
  /** Exclusive upper bound on `scheduledAt`. */
  to?: number;
  /** Page size (1-1000). */
  limit: number;
  cursor?: string | null;
}

/** Filters for listing approvals; newest first. */
export interface ApprovalQuery {
  status?: ApprovalStatus | ApprovalStatus[];
  riskLevel?: RiskLevel | RiskLevel[];
  scheduleId?: string;
  executionId?: string;
  /** Members of this approval group only. */
  groupId?: string;
  limit: number;
  cursor?: string | null;
}

/** Filters for listing orders; newest first. */
export interface OrderQuery {
  scheduleId?: string;
  executionId?: string;
  symbol?: string;
  status?: string | string[];
  from?: number;
  to?: number;
  limit: number;
  cursor?: string | null;
}

/** Filters for listing the audit log; newest first. */
export interface AuditQuery {
  actor?: string;
  action?: string;
  subjectType?: string;
  subjectId?: string;
  from?: number;
  to?: number;
  limit: number;
  cursor?: string | null;
}

/**
 * Something a storage found it cannot trust: a stored record failing its checks (left where it is
 * and never handed out), or a file it moved to its quarantine.
 */
export interface StorageIssue {
  /** What it is: a record type, or `file` for a file that holds no one record (a damaged log). */
  subject: "schedule" | "control" | "execution" | "approval" | "order" | "audit" | "state" | "file";
  /** The record's id when known (the schedule id), else null. */
  id: string | null;
  /** `invalid`: stored but failing its checks; `quarantined`: moved aside (FileStorage). */
  kind: "invalid" | "quarantined";
  /** What is wrong, for people. */
  reason: string;
  /** Where it is (a file path, a table), when that helps. */
  where?: string;
}

/**
 * What the stored history says about one schedule's latest runs, so a restarted scheduler reports
 * the same last start, end, status and success as before (see {@link Storage.scheduleSummaries}).
 * A *run* is an execution whose handler started (`startedAt` is set); "latest" is by `scheduledAt`.
 */
export interface ScheduleSummary {
  scheduleId: string;
  /** As {@link Storage.lastFireAt}. */
  lastFireAt: number | null;
  /** `startedAt` of the latest run (running or ended). */
  lastStartAt: number | null;
  /** `endedAt` of the latest run that ended (a final status). */
  lastEndAt: number | null;
  /** The status of that run: `succeeded`, `failed`, `timed_out` or `cancelled`. */
  lastStatus: ExecutionStatus | null;
  /** `endedAt` of the latest run that succeeded. */
  lastSuccessAt: number | null;
}

/** A change another instance may need to react to. */
export type StorageChange =
  | {
      type: "schedule";
      id: string;
      /**
       * The schedule's revision after the change, where the storage knows it without a read
       * (an insert or an update; absent for a delete, and from storages that do not tell): a
       * listener that already holds this revision skips the read-back, as it would after it.
       */
      revision?: number;
    }
  | { type: "control" }
  | { type: "approval"; id: string };

/** The storage contract. All methods are async and safe to call concurrently. */
export interface Storage {
  /** Short name for logs and errors (`memory`, `file`, `sqlite`, `postgres`). */
  readonly name: string;

  /** Prepares the backend (creates tables, takes locks). Idempotent. */
  open(): Promise<void>;
  /** Releases connections and locks. Idempotent. */
  close(): Promise<void>;

  // --- schedules ---------------------------------------------------------------------------
  /** Inserts a new schedule. Throws ConflictError `SCHEDULE_EXISTS` if the id is taken (even by an invalid one). */
  insertSchedule(schedule: ScheduleRecord): Promise<void>;
  /**
   * Inserts many new schedules in one atomic write (all or none): the bulk path of
   * `scheduler.createSchedules` and declarative schedules. Throws ConflictError `SCHEDULE_EXISTS`
   * and inserts none if any id is taken or repeated; `details.id` is the id of the first record,
   * in batch order, that is taken or repeats an earlier one. An empty batch does nothing.
   * Optional: the scheduler falls back to `insertSchedule` per record.
   */
  insertSchedules?(schedules: readonly ScheduleRecord[]): Promise<void>;
  /**
   * Replaces a schedule if its stored revision equals `expectedRevision` (the new record carries
   * expectedRevision + 1). Throws ConflictError `REVISION_CONFLICT` otherwise, NotFoundError
   * `SCHEDULE_NOT_FOUND` if it does not exist.
   */
  updateSchedule(schedule: ScheduleRecord, expectedRevision: number): Promise<void>;
  /**
   * The schedule, or null. A stored schedule that fails `checkStoredSchedule` throws StorageError
   * `STORAGE_CORRUPT` naming it and why (or is null where the storage moved it to a quarantine).
   */
  getSchedule(id: string): Promise<ScheduleRecord | null>;
  /** Every valid schedule, ordered by id. Invalid ones are left out and listed by {@link Storage.issues}. */
  listSchedules(): Promise<ScheduleRecord[]>;
  /** Deletes a schedule and its state (its executions stay). Returns false if it did not exist. */
  deleteSchedule(id: string): Promise<boolean>;

  // --- control ------------------------------------------------------------------------------
  /**
   * The control record; a fresh store returns `pausedAll: false, revision: 0`. A stored record that
   * cannot be read (damaged, wrong types, the row gone) throws StorageError `STORAGE_CORRUPT`
   * until `setControl` replaces it: it never reads as "not paused". (The scheduler then comes up
   * paused-all, fail-safe.)
   */
  getControl(): Promise<ControlRecord>;
  /** Replaces the control record (also an unreadable one). */
  setControl(control: ControlRecord): Promise<void>;

  // --- fires and executions -----------------------------------------------------------------
  /** Atomically claims (scheduleId, scheduledAt): creates the record unless one exists. */
  claimFire(claim: FireClaim): Promise<ClaimResult>;
  /**
   * Claims many fires in one call (one round trip, one transaction or one group commit): the
   * same outcome as {@link Storage.claimFire} for each, results in the order of `claims`.
   * Exactly-once holds per fire as for `claimFire`, also against single claims racing the batch
   * from other instances; two claims of one fire in one batch: the first wins, the second gets
   * `claimed: false` with the first's record. An empty batch resolves to `[]`. Either every
   * result is decided or the call throws and claimed none of them (a storage that cannot undo
   * a partial batch must not hand out partial results). The one exception is a failure after
   * the claims were durably written but before the call could answer (a connection lost
   * between the insert and the read of the losers): such fires stay held by the claiming
   * instance, exactly as if it had crashed right after claiming, and are taken over once their
   * lease expires. `withState` is per claim, as for `claimFire`. Optional: the scheduler falls
   * back to `claimFire` per fire; every tradecron storage has it (the conformance suite
   * requires it).
   */
  claimFires?(claims: readonly FireClaim[]): Promise<ClaimResult[]>;
  /**
   * Who holds each fire: the `instanceId` of the fire's execution record (whatever its status,
   * also a skip), or null where the fire has no record yet; results in the order of `fires`. A
   * read that claims nothing, one round trip for the batch: an instance that held fires back
   * for the step-in delay (the preferred claimer, `stepInMs`) asks it first and claims only the
   * fires still free, instead of sending a claim per fire that mostly loses. A stale answer is
   * harmless (the claim decides). Optional: without it the held fires are claimed as they are.
   *
   * `expected`, pairwise with `fires`, names the instance each fire is likely held by (its
   * preferred claimer): a hint only, so that a remote storage can send back just the fires held
   * otherwise or free (most fires of a burst are held by their preferred instance). The answer is
   * the same with or without it; a storage may ignore it.
   */
  fireHolders?(fires: readonly FireRef[], expected?: readonly string[]): Promise<(string | null)[]>;
  /**
   * Applies `patch` if `instanceId` still holds the execution (status `claimed` or `running`,
   * same instanceId). Returns the updated record, or null if the holder lost it (taken over or
   * final): the caller must then discard its outcome.
   *
   * With `state` (the scheduler passes it only with a `succeeded` patch), the schedule's state
   * record is replaced in the same atomic write: both are written or neither. A lost holder gets
   * null and writes neither; a stored state no longer at `state.expectedRevision` writes neither
   * and throws ConflictError `REVISION_CONFLICT` (field `state`); a schedule that no longer
   * exists gets the patch and no state. See {@link StateCommit}.
   */
  updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null>;
  /**
   * The schedule's committed state, or null before its first commit (and after the schedule was
   * deleted: {@link Storage.deleteSchedule} deletes its state too). A stored state failing
   * `checkStoredScheduleState` throws StorageError `STORAGE_CORRUPT`.
   */
  getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null>;
  /**
   * Extends the lease of every listed execution `instanceId` still holds (status `claimed` or
   * `running`) to `leaseExpiresAt`. Returns the ids it still holds; the others were lost.
   */
  renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]>;
  /**
   * Finalises an active execution as `cancelled` whoever holds it (overlap `cancel_previous`
   * across instances): the holder's next lease renewal fails and it aborts. Returns the record,
   * or null if it was not active.
   */
  cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null>;
  /** The schedule's executions in status `claimed` or `running`, oldest `scheduledAt` first. */
  activeExecutions(scheduleId: string): Promise<ExecutionRecord[]>;
  /**
   * Deletes a `claimed` (not yet started) execution held by `instanceId`, freeing the fire. A
   * released fire leaves no trace: it no longer counts for {@link Storage.lastFireAt}.
   */
  releaseClaim(id: string, instanceId: string): Promise<boolean>;
  /**
   * Takes over up to `limit` executions in `claimed` or `running` whose lease expired before `now`:
   * each gets `instanceId`, `leaseExpiresAt`, status `running` and attempts + 1 atomically,
   * so two instances never take over the same one. With `jobs`, only executions of those jobs
   * (an instance takes over only what it can run). Returns the taken records.
   */
  takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]>;
  getExecution(id: string): Promise<ExecutionRecord | null>;
  /** The execution of fire (scheduleId, scheduledAt), if claimed. */
  findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null>;
  listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>>;
  /**
   * The latest `scheduledAt` recorded for the schedule's own fires (kinds `scheduled` and
   * `catchup`) that have an execution: a claim released with {@link Storage.releaseClaim} does
   * not count (the fire was never run, so a restart treats it as missed).
   */
  lastFireAt(scheduleId: string): Promise<number | null>;
  /**
   * The latest runs of each listed schedule, in one query (a scheduler asks for all its schedules
   * at start). One summary per id, in order; a schedule without history gets nulls.
   */
  scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]>;

  // --- approvals ----------------------------------------------------------------------------
  /** Inserts approvals (all or nothing). Throws ConflictError if an id exists. */
  insertApprovals(approvals: ApprovalRecord[]): Promise<void>;
  getApproval(id: string): Promise<ApprovalRecord | null>;
  listApprovals(query: ApprovalQuery): Promise<Page<ApprovalRecord>>;
  /** Number of approvals in `status`; cheap (indexed or counted incrementally). */
  countApprovals(status: ApprovalStatus): Promise<number>;
  /**
   * Compare-and-set: applies `patch` only if the approval is in status `from`. Returns the updated
   * record or null when it was not (someone else decided first, or it expired).
   */
  transitionApproval(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null>;
  /**
   * All-or-none compare-and-set on an approval group: applies `patch` to every approval whose
   * `groupId` is `groupId`, in one atomic write, only if every one of them is in status `from`.
   * Returns the updated members ordered by `intentIndex`, or null (and changes nothing) when the
   * group has no member or any member is in another status. Of two callers racing, one wins.
   * `id` and `groupId` in `patch` are ignored.
   */
  transitionApprovalGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null>;
  /** Pending approvals whose `expiresAt` <= `now`, oldest first, at most `limit`. */
  listExpiredApprovals(now: number, limit: number): Promise<ApprovalRecord[]>;

  // --- orders -------------------------------------------------------------------------------
  /** Inserts or replaces the order with this client order id. */
  upsertOrder(order: OrderRecord): Promise<void>;
  getOrder(clientOrderId: string): Promise<OrderRecord | null>;
  listOrders(query: OrderQuery): Promise<Page<OrderRecord>>;

  // --- audit --------------------------------------------------------------------------------
  /**
   * Appends an entry; the storage assigns `seq` (never reused, also after a prune). Entries are
   * never changed; only retention deletes them ({@link Storage.pruneAudit}), oldest first.
   */
  appendAudit(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry>;
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;

  // --- retention (optional capability; every tradecron storage has it) -----------------------
  // The rules every prune keeps are in `prune.ts`: final records only, at most `limit` per call,
  // nothing that lastFireAt, scheduleSummaries or a pending approval or open order relies on.
  /** Deletes up to `limit` final executions of one schedule that `prune` selects; returns how many. */
  pruneExecutions?(prune: ExecutionPrune): Promise<number>;
  /**
   * Ids of schedules that have executions, ascending, after `after` (null: from the start), at
   * most `limit`: how retention finds the history of schedules that were removed.
   */
  executionScheduleIds?(after: string | null, limit: number): Promise<string[]>;
  /** Deletes up to `limit` final approvals created before `before` that no open order references. */
  pruneApprovals?(prune: RecordPrune): Promise<number>;
  /** Deletes up to `limit` final orders last updated before `before`. */
  pruneOrders?(prune: RecordPrune): Promise<number>;
  /** Deletes up to `limit` audit entries older than `before`, oldest first, never the newest. */
  pruneAudit?(prune: RecordPrune): Promise<number>;

  // --- cluster membership (optional capability) -----------------------------------------------
  /**
   * Records that `instanceId` is alive until `expiresAt` and returns the ids of every instance
   * alive at `now` (its `expiresAt` > `now`), itself included while `expiresAt` > `now`, sorted
   * ascending. `expiresAt` <= `now` removes the instance (a graceful stop). Instances that share
   * a storage use the list to split the due fires between them (a preferred claimer per fire);
   * exactly-once never depends on it. Storages one process owns (MemoryStorage, FileStorage) may
   * return just the caller; storages without it: every instance claims every fire.
   */
  heartbeat?(instanceId: string, now: number, expiresAt: number): Promise<string[]>;

  // --- trust (optional capability) ----------------------------------------------------------
  /**
   * What this storage found it could not trust (invalid stored records, quarantined files), as
   * known now: cheap and synchronous, for health checks. Storages that keep nothing they could
   * not check may omit it.
   */
  issues?(): StorageIssue[];

  // --- change notification (optional capability) --------------------------------------------
  /**
   * Calls `listener` when another writer changes a schedule, the control record or an approval.
   * Backends without notification omit it; the scheduler then polls.
   */
  watch?(listener: (change: StorageChange) => void): () => void;
}
