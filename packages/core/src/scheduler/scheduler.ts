/**
 * The Scheduler: registers jobs, keeps schedules, and runs their fires exactly once.
 *
 * This class is the public facade. The work is done by role-named parts, each taking what it
 * needs in its constructor (see README.md in this folder): the registry arms schedules, the loop
 * waits for the next fire, the dispatcher claims and starts it, the runner runs it, and the
 * lifecycle, controls, maintenance and sync keep the promises around them. Every fire is claimed
 * in storage before it runs; only the claimer runs it.
 */

import { EventEmitter } from "eventemitter3";
import type { Broker } from "../broker/broker.js";
import type { SchedulerEventMap, SchedulerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import type { NotifierHub } from "../notify/notifier-hub.js";
import type { ScheduleInput, ScheduleUpdate } from "../schedule/schedule-input.js";
import type {
  ApprovalRecord,
  AuditEntry,
  ControlRecord,
  ExecutionRecord,
  JsonValue,
  OrderRecord,
  Page,
  ScheduleRecord,
} from "../storage/records.js";
import type { ScheduleStateRecord } from "../storage/schedule-state.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import type { ApprovalGroup } from "../trading/approval-group.js";
import type { DecisionResult } from "../trading/approval-queue.js";
import type { GroupDecision } from "../trading/group-approvals.js";
import type { Trading } from "../trading/trading.js";
import { type InstantInput, parseInput } from "../validation.js";
import { assemble } from "./assembly.js";
import type { Controls } from "./controls.js";
import type { Gate } from "./gate.js";
import { type ActorOptions, actorOf } from "./inputs.js";
import type { JobHandler } from "./job.js";
import type { Lifecycle, StopOptions } from "./lifecycle.js";
import type { BackfillResult, ManualFires, PreviewFire } from "./manual.js";
import type { Monitor } from "./monitor.js";
import { optionsSchema, type SchedulerOptions } from "./options.js";
import type {
  ApprovalListInput,
  AuditListInput,
  ExecutionListInput,
  OrderListInput,
  Records,
} from "./records.js";
import type { Registry } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { Retention, RetentionCounts } from "./retention.js";
import type { Runs } from "./runs.js";
import type { ScheduleListInput, Schedules } from "./schedules.js";
import type { Health, SchedulerState, SchedulerStatus } from "./status.js";

export type { ActorOptions } from "./inputs.js";
export type { StopOptions, StopResult } from "./lifecycle.js";
export type { BackfillResult, PreviewFire } from "./manual.js";
export { DEFAULT_LEASE_MS, DEFAULT_MAX_WAIT_MS, type SchedulerOptions } from "./options.js";
export type { ApprovalListInput, AuditListInput, ExecutionListInput, OrderListInput } from "./records.js";
export type { ScheduleListInput } from "./schedules.js";

/**
 * The tradecron scheduler. Register jobs, create schedules, `start()`. Every public call validates
 * its input and throws a {@link TradecronError} naming the field; failures inside the loop become
 * `scheduler:error` events and never stop it.
 */
export class Scheduler extends EventEmitter<SchedulerEventMap> {
  /** This instance's id in claims and leases. */
  readonly instanceId: string;
  /** The storage in use. */
  readonly storage: Storage;
  /** The clock in use. */
  readonly clock: Clock;
  /** The logger in use. */
  readonly logger: Logger;

  private readonly reporter: Reporter;
  private readonly gate: Gate;
  private readonly registry: Registry;
  private readonly runs: Runs;
  private readonly controls: Controls;
  private readonly schedules: Schedules;
  private readonly manual: ManualFires;
  private readonly records: Records;
  private readonly monitor: Monitor;
  private readonly lifecycle: Lifecycle;
  /** Broker, risk guard, order desk and approval queue. */
  private readonly trading: Trading;
  private readonly notifier: NotifierHub;
  /** Prunes the stored history in the background (retention.ts). */
  private readonly retention: Retention;

  constructor(options: SchedulerOptions = {}) {
    super();
    const o = parseInput(optionsSchema, options, "scheduler", "options");
    const parts = assemble(o, (name, payload) =>
      (this.emit as (n: string, p: unknown) => boolean)(name, payload),
    );
    this.instanceId = parts.instanceId;
    this.storage = parts.storage;
    this.clock = parts.clock;
    this.logger = parts.logger;
    this.reporter = parts.reporter;
    this.gate = parts.gate;
    this.registry = parts.registry;
    this.runs = parts.runs;
    this.controls = parts.controls;
    this.schedules = parts.schedules;
    this.manual = parts.manual;
    this.records = parts.records;
    this.monitor = parts.monitor;
    this.lifecycle = parts.lifecycle;
    this.trading = parts.trading;
    this.notifier = parts.notifier;
    this.retention = parts.retention;
  }

  /**
   * Runs one retention pass now and resolves with what it deleted (null when retention is off or
   * the storage cannot prune); the background passes run on their own. See docs/retention.md.
   */
  prune(): Promise<RetentionCounts | null> {
    return this.retention.runOnce();
  }

  /** Waits until queued notifications are delivered (or given up); for shutdown and tests. */
  flushNotifications(): Promise<void> {
    return this.notifier.flush();
  }

  /**
   * Emits without letting a throwing listener reach the loop. Every event is first counted per
   * schedule and logged (`event-log.ts`), before any listener can throw.
   */
  protected emitSafe<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void {
    this.reporter.emit(name, payload);
  }

  // ------------------------------------------------------------------------------------------
  // jobs

  /**
   * Registers the handler of job `name`. Schedules name jobs; an instance only runs the schedules
   * whose job it has registered.
   */
  register<TData = JsonValue | null>(
    name: string,
    handler: JobHandler<TData>,
    options: { description?: string } = {},
  ): this {
    this.registry.register(name, handler as JobHandler<never>, options);
    return this;
  }

  /** Names of the registered jobs. */
  jobNames(): string[] {
    return this.registry.jobNames();
  }

  // ------------------------------------------------------------------------------------------
  // schedules

  /** Creates a schedule. Throws on bad input (naming the field) or when the id is taken. */
  createSchedule(input: ScheduleInput, options?: ActorOptions): Promise<ScheduleRecord> {
    return this.schedules.create(input, options);
  }

  /**
   * Creates many schedules at once: the bulk path of declarative schedules and of hosts that arm
   * thousands. The whole batch is validated first, in one pass: a ValidationError lists every
   * problem of every input, its field prefixed with the input's index (`[3].trigger.expression`),
   * and nothing is written. Then the batch is written in one storage call, all or none (with
   * `storage.insertSchedules`; a storage without it gets one insert per schedule, and the ones
   * inserted are deleted again if a later one fails): an id that is taken, or repeated in the
   * batch, is a ConflictError `SCHEDULE_EXISTS` whose `details.id` names it. The new schedules
   * are armed together, with one re-arm of the timer.
   *
   * Audit: one `schedule.create_batch` entry per 500 schedules (subject type `schedule`, no
   * subject id) whose details list the `ids` created, with `count`, `part` and `total`, instead
   * of one `schedule.create` entry each: a storage appends audit entries one at a time, and
   * 100,000 appends would cost more than the batch itself. Events: one `schedule:created` per
   * schedule, as {@link Scheduler.createSchedule} emits it. At most 100,000 schedules per call
   * (`MAX_BATCH_SCHEDULES`). Resolves with the created records, in input order.
   */
  createSchedules(inputs: readonly ScheduleInput[], options?: ActorOptions): Promise<ScheduleRecord[]> {
    return this.schedules.createMany(inputs, options);
  }

  /**
   * Updates a schedule with the given fields (the rest are kept). With `expectedRevision`, the
   * update only applies if nobody changed the schedule since (ConflictError otherwise).
   */
  updateSchedule(
    id: string,
    update: ScheduleUpdate,
    options: ActorOptions & { expectedRevision?: number } = {},
  ): Promise<ScheduleRecord> {
    return this.schedules.update(id, update, options);
  }

  /**
   * The schedule with this id; NotFoundError if there is none, StorageError `STORAGE_CORRUPT` if
   * the stored record fails its checks (remove it and create it again, or fix it in storage).
   */
  getSchedule(id: string): Promise<ScheduleRecord> {
    return this.schedules.get(id);
  }

  /**
   * Every schedule, ordered by id, or those matching every given filter: `tag` (a tag, or several
   * the schedule must all carry), `job`, `enabled`, `paused`.
   */
  listSchedules(filter: ScheduleListInput = {}): Promise<ScheduleRecord[]> {
    return this.schedules.list(filter);
  }

  /** Removes a schedule (its history stays). NotFoundError if it does not exist. */
  removeSchedule(id: string, options?: ActorOptions): Promise<void> {
    return this.schedules.remove(id, options);
  }

  /** Pauses one schedule (persisted). Its missed fires follow its misfire policy on resume. */
  pauseSchedule(id: string, options?: ActorOptions): Promise<ScheduleRecord> {
    return this.schedules.setPaused(id, true, actorOf(options));
  }

  /** Resumes a paused schedule. */
  resumeSchedule(id: string, options?: ActorOptions): Promise<ScheduleRecord> {
    return this.schedules.setPaused(id, false, actorOf(options));
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle and controls

  /** Current lifecycle state. */
  get state(): SchedulerState {
    return this.gate.state;
  }

  /**
   * Opens the storage, restores schedules and the emergency switch, plans what was missed while
   * down, and starts the loop. Idempotent.
   */
  start(): Promise<void> {
    return this.lifecycle.start();
  }

  /**
   * Stops the loop, gracefully. No new fire is claimed. Every fire claimed before or during the
   * call (a claim still on its way back from storage included) runs to its end within `timeoutMs`
   * (default 30 s) and is recorded; buffered fires and runs waiting between retry attempts are
   * handed over (their lease expires at once, so another instance, or this one after a restart,
   * takes them over). At the deadline, fires not started yet are handed over unstarted, and
   * handlers still running have their signal aborted and then, by `atDeadline`:
   *
   * - `"cancel"` (the default): they are recorded as cancelled (reason `shutdown`), final;
   * - `"hand-over"` (a rolling deploy on a shared storage): nothing is recorded; once the handler
   *   has given up (its promise settled, at most 10 s after the deadline) the lease is expired at
   *   once, else left to lapse, and the attempt it was in is given back, so another instance takes
   *   the fire over and runs it again as the same attempt, with the same idempotency key (a deploy
   *   consumes no retry). Use it only where another instance (or this host after its restart)
   *   shares the storage: on a MemoryStorage nobody else can take the fire.
   *
   * The `scheduler:stopped` event lists the execution ids cancelled and handed over at the deadline.
   * It resolves only when nothing of this scheduler is running any more or will touch the storage
   * (outcomes written, hand-overs written, background work done), so a host may close the storage
   * right after; only storage writes that hang are not waited for longer than 10 s past the
   * deadline (they are reported as `scheduler:error`). It does not close the storage, which is the
   * host's and may be shared by other schedulers, unless `closeStorage: true`. It always resolves,
   * even with `keepAlive: false`: it holds the process open while it waits. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    return this.lifecycle.stop(options);
  }

  /** Pauses this instance (not persisted): no fires until `resume()`; missed fires follow each misfire policy. */
  pause(): void {
    this.controls.pause();
  }

  /** Resumes after `pause()`. */
  resume(): void {
    this.controls.resume();
  }

  /**
   * Emergency stop of every fire on every instance sharing the storage, persisted (a restart stays
   * paused). With `abortRunning`, handlers in progress are aborted too (recorded as cancelled).
   */
  pauseAll(
    options: ActorOptions & { reason?: string; abortRunning?: boolean; cancelOpenOrders?: boolean } = {},
  ): Promise<ControlRecord> {
    return this.controls.pauseAll(options);
  }

  /**
   * Lifts the emergency pause on every instance. Missed fires follow each schedule's misfire
   * policy. A pause the scheduler imposed because the control record could not be read is lifted
   * only with a named `actor` (and replaces the unreadable record).
   */
  resumeAll(options?: ActorOptions): Promise<ControlRecord> {
    return this.controls.resumeAll(options);
  }

  /** Whether the emergency pause-all is in force (as last seen by this instance). */
  get pausedAll(): boolean {
    return this.gate.control.pausedAll;
  }

  // ------------------------------------------------------------------------------------------
  // manual fires, backfill, preview

  /**
   * Runs a schedule now, recorded as a `manual` fire with the actor, under the schedule's overlap
   * policy. With `wait` (default) resolves with the final record; otherwise with the claimed one.
   */
  trigger(id: string, options: ActorOptions & { wait?: boolean } = {}): Promise<ExecutionRecord> {
    return this.manual.trigger(id, options);
  }

  /**
   * Runs the schedule's fires in [from, to] now, as if they had come, one after another. Fires
   * already claimed (they ran, or another instance holds them) are left alone, so a backfill can
   * be repeated safely. `to` must not be in the future.
   */
  backfill(
    id: string,
    options: ActorOptions & { from: InstantInput; to: InstantInput; maxFires?: number },
  ): Promise<BackfillResult> {
    return this.manual.backfill(id, options);
  }

  /**
   * The next `count` fires of a saved schedule (by id) or of a schedule input not yet saved, each
   * with the reason it would be skipped.
   */
  preview(
    target: string | ScheduleInput,
    options: { count?: number; from?: InstantInput } = {},
  ): Promise<PreviewFire[]> {
    return this.manual.preview(target, options);
  }

  // ------------------------------------------------------------------------------------------
  // history, approvals, orders, audit

  /** Executions, newest first, filtered by schedule, status, kind and time range, with a cursor. */
  listExecutions(input: ExecutionListInput = {}): Promise<Page<ExecutionRecord>> {
    return this.records.listExecutions(input);
  }

  /** One execution; NotFoundError if unknown. */
  getExecution(id: string): Promise<ExecutionRecord> {
    return this.records.getExecution(id);
  }

  /**
   * The schedule's committed state (what its handlers read as `ctx.state`): the value, its
   * revision (+1 per commit), the execution that committed it and when; null before the first
   * commit or once the schedule was removed. StorageError `STORAGE_CORRUPT` if the stored state
   * fails its checks.
   */
  getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return this.records.getScheduleState(scheduleId);
  }

  /** Approvals, newest first, filtered by status, risk level and schedule, with a cursor. */
  listApprovals(input: ApprovalListInput = {}): Promise<Page<ApprovalRecord>> {
    return this.records.listApprovals(input);
  }

  /** One approval; NotFoundError if unknown. */
  getApproval(id: string): Promise<ApprovalRecord> {
    return this.records.getApproval(id);
  }

  /** Number of approvals waiting for a decision. */
  pendingApprovalCount(): Promise<number> {
    return this.storage.countApprovals("pending");
  }

  /**
   * Approves one or many pending approvals as `actor`. Each is re-checked by the risk guard (limits
   * may have changed since it was proposed) and, if it passes, submitted to the broker. Returns one
   * result per id, in order; an approval that is not pending any more is reported, not thrown. An
   * approval whose schedule was removed is rejected (code `SCHEDULE_NOT_FOUND`) unless
   * `allowRemovedSchedule: true`.
   */
  approve(
    ids: string | string[],
    options: ActorOptions & { reason?: string; allowRemovedSchedule?: boolean },
  ): Promise<DecisionResult[]> {
    return this.records.approve(ids, options);
  }

  /** Rejects one or many pending approvals as `actor`, with an optional reason. */
  reject(ids: string | string[], options: ActorOptions & { reason?: string }): Promise<DecisionResult[]> {
    return this.records.reject(ids, options);
  }

  /**
   * An approval group: its members in proposal order and the status derived from theirs.
   * NotFoundError if no approval belongs to `groupId`.
   */
  getApprovalGroup(groupId: string): Promise<ApprovalGroup> {
    return this.records.getApprovalGroup(groupId);
  }

  /**
   * Approves every member of a group as one unit (all or none) as `actor`, then submits their
   * orders in proposal order, each re-checked by the risk guard; results per member in order. The
   * decision is one atomic write: ConflictError `APPROVAL_GROUP_NOT_PENDING` when any member is
   * not pending (decided, expired) or the group has expired, and then nothing changes. A member
   * refused after approval (risk re-check, broker) is `failed` and reported in its result; the
   * others still go. A group whose schedule was removed is rejected unless `allowRemovedSchedule`.
   */
  approveGroup(
    groupId: string,
    options: ActorOptions & { reason?: string; allowRemovedSchedule?: boolean },
  ): Promise<GroupDecision> {
    return this.records.approveGroup(groupId, options);
  }

  /** Rejects every member of a group as one unit as `actor`; the same errors as {@link Scheduler.approveGroup}. */
  rejectGroup(groupId: string, options: ActorOptions & { reason?: string }): Promise<GroupDecision> {
    return this.records.rejectGroup(groupId, options);
  }

  /** Orders placed through this scheduler's storage, newest first. */
  listOrders(input: OrderListInput = {}): Promise<Page<OrderRecord>> {
    return this.records.listOrders(input);
  }

  /** One order by its client order id; NotFoundError if unknown. */
  getOrder(clientOrderId: string): Promise<OrderRecord> {
    return this.records.getOrder(clientOrderId);
  }

  /** The audit log, newest first: who did what, when and why. */
  listAudit(input: AuditListInput = {}): Promise<Page<AuditEntry>> {
    return this.records.listAudit(input);
  }

  /** Cancels every open order at the broker, recorded in the audit log. */
  async cancelOpenOrders(
    options?: ActorOptions,
  ): Promise<{ cancelled: number; failed: { id: string; error: string }[] }> {
    const actor = actorOf(options);
    const result = await this.trading.desk.cancelOpenOrders();
    await this.reporter.audit(actor, "orders.cancel_all", "broker", null, result as unknown as JsonValue);
    return result;
  }

  /** The configured broker, or null. */
  get broker(): Broker | null {
    return this.trading.desk.broker;
  }

  // ------------------------------------------------------------------------------------------
  // status and health

  /** A snapshot of state, uptime, heartbeat, per-schedule status and counters. */
  status(): Promise<SchedulerStatus> {
    return this.monitor.status();
  }

  /** healthy / degraded / unhealthy, with reasons. Cheap: no storage call. */
  health(): Health {
    return this.monitor.health();
  }

  /** Number of runs in progress on this instance. */
  get runningCount(): number {
    return this.runs.size;
  }
}
