/**
 * `@tradecron/core`: the scheduler, its triggers and policies, storage contract and defaults.
 *
 * @packageDocumentation
 */

export * from "./broker/index.js";
export * from "./calendar/index.js";
export {
  ConflictError,
  type ErrorCode,
  errorCode,
  NotFoundError,
  RunCancelledError,
  RunTimeoutError,
  StateError,
  StorageError,
  TradecronError,
  type TradecronErrorOptions,
  toError,
  ValidationError,
  type ValidationIssue,
} from "./errors.js";
export {
  SCHEDULER_EVENT_NAMES,
  type SchedulerEventMap,
  type SchedulerEventName,
  type SchedulerEvents,
  type SkipReason,
} from "./events.js";
export {
  type ConsoleLoggerOptions,
  consoleLogger,
  type LogFn,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./logger.js";
export * from "./notify/index.js";
export { Decimal, decimalString } from "./orders/decimal.js";
export {
  clientOrderId,
  type OrderIntent,
  type OrderIntentInput,
  orderIntentSchema,
  parseOrderIntent,
} from "./orders/intent.js";
export {
  type BackoffPolicy,
  type CronTriggerSpec,
  DEFAULT_MISFIRE,
  DEFAULT_RETRY,
  type IntervalTriggerSpec,
  MIN_INTERVAL_MS,
  type MisfirePolicy,
  misfireInputSchema,
  type OnceTriggerSpec,
  type OverlapPolicy,
  overlapSchema,
  type RetryPolicy,
  retryInputSchema,
  type TriggerInput,
  type TriggerSpec,
  triggerInputSchema,
} from "./schedule/policies.js";
export {
  buildScheduleRecord,
  type ScheduleInput,
  type ScheduleUpdate,
  scheduleInputSchema,
} from "./schedule/schedule-input.js";
export {
  DECLARED_TAG,
  type DeclarationStep,
  type DeclareOptions,
  type DeclareReport,
  declarationIssues,
  declareSchedules,
  planDeclaration,
} from "./scheduler/declare.js";
export { DEFAULT_STEP_IN_MS } from "./scheduler/deferred-fires.js";
export type {
  FireInfo,
  JobContext,
  JobHandler,
  ProposalOutcome,
  ProposeGroupOptions,
  SubmitOutcome,
} from "./scheduler/job.js";
export { fireIdempotencyKey } from "./scheduler/job.js";
export { fireHash } from "./scheduler/membership.js";
export { type FirePlan, type MissedSummary, type PlannedRun, planFires } from "./scheduler/planner.js";
export {
  DEFAULT_RETENTION,
  Retention,
  type RetentionCounts,
  type RetentionDeps,
  type RetentionOptions,
  type RetentionPolicy,
  resolveRetention,
} from "./scheduler/retention.js";
export { backoffDelay, isRetryable } from "./scheduler/retry.js";
export {
  AUDIT_IDS_PER_ENTRY,
  BATCH_AUDIT_ACTION,
  MAX_BATCH_SCHEDULES,
} from "./scheduler/schedule-batch.js";
export type { ScheduleCounters } from "./scheduler/schedule-counters.js";
export {
  type ActorOptions,
  type ApprovalListInput,
  type AuditListInput,
  type BackfillResult,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_WAIT_MS,
  type ExecutionListInput,
  type OrderListInput,
  type PreviewFire,
  type ScheduleListInput,
  Scheduler,
  type SchedulerOptions,
  type StopOptions,
  type StopResult,
} from "./scheduler/scheduler.js";
export type {
  Counters,
  Health,
  SchedulerState,
  SchedulerStatus,
  ScheduleStatus,
} from "./scheduler/status.js";
export { checkLimit, decodeCursor, encodeCursor, pageOf } from "./storage/cursor.js";
export { checkHeartbeat, MAX_INSTANCE_ID_LENGTH, MembershipTable } from "./storage/membership.js";
export { MemoryStorage, type MemoryStorageOptions } from "./storage/memory-storage.js";
export {
  checkPrune,
  type ExecutionPrune,
  executionPrunable,
  MAX_PRUNE_LIMIT,
  PRUNABLE_APPROVAL_STATUSES,
  PRUNABLE_EXECUTION_STATUSES,
  PRUNABLE_ORDER_STATUSES,
  ProtectedIds,
  type ProtectionInput,
  protectedExecutionIds,
  type RecordPrune,
} from "./storage/prune.js";
export { PruneQueue, type PruneSource } from "./storage/prune-queue.js";
export { approvalMatcher, auditMatcher, orderMatcher } from "./storage/query-match.js";
export {
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEntry,
  type ControlRecord,
  type ExecutionError,
  type ExecutionRecord,
  type ExecutionStatus,
  FINAL_STATUSES,
  type FireKind,
  type JsonValue,
  type OrderRecord,
  type Page,
  type RiskLevel,
  type ScheduleRecord,
  type ScheduleRetention,
} from "./storage/records.js";
export { firstConflictingId, scheduleExistsError } from "./storage/schedule-batch.js";
export {
  checkStoredScheduleState,
  committedState,
  type ScheduleStateRecord,
  type StateCommit,
  storedScheduleStateProblem,
} from "./storage/schedule-state.js";
export { mapInSlices, SLICE_MS, sortInSlices, Turn } from "./storage/slices.js";
export type {
  ApprovalQuery,
  AuditQuery,
  ClaimResult,
  ExecutionPatch,
  ExecutionQuery,
  FireClaim,
  FireRef,
  OrderQuery,
  ScheduleSummary,
  Storage,
  StorageChange,
  StorageIssue,
} from "./storage/storage.js";
export { applyExecutionPatch, EXECUTION_PATCH_KEYS, pickExecutionPatch } from "./storage/storage.js";
export {
  checkStoredControl,
  checkStoredSchedule,
  corruptRecord,
  isCorruptRecord,
  type RecordProblem,
  storedControlProblem,
  storedScheduleProblem,
} from "./storage/stored-records.js";
export { SummaryBuilder, type SummaryInput } from "./storage/summaries.js";
export {
  type Clock,
  chainedTimers,
  clockSchema,
  MAX_TIMER_MS,
  markOverflowSafe,
  overflowSafe,
  systemClock,
  type TimerHandle,
} from "./time/clock.js";
export {
  canonicalTimeZone,
  isValidTimeZone,
  type LocalResolution,
  localToInstant,
  resolveLocal,
  toLocal,
  zoneOffset,
} from "./time/zone.js";
export {
  APPROVAL_GROUP_ID,
  type ApprovalGroup,
  type ApprovalGroupStatus,
  approvalGroupIdOf,
  groupOf,
  groupStatusOf,
  MAX_GROUP_SIZE,
  storedGroupIdProblem,
} from "./trading/approval-group.js";
export {
  ApprovalQueue,
  type ApprovalQueueDeps,
  approvalIdOf,
  DEFAULT_APPROVAL_EXPIRY_MS,
  type DecisionResult,
  type ProposeResult,
} from "./trading/approval-queue.js";
export type { GroupDecision, GroupProposal } from "./trading/group-approvals.js";
export {
  type DeskRequest,
  type MarketHours,
  OrderDesk,
  type OrderDeskDeps,
  type PriceSource,
  type ReconcileResult,
  type SubmitResult,
} from "./trading/order-desk.js";
export type { PendingUpdatesOptions } from "./trading/pending-updates.js";
export {
  evaluateRisk,
  intentNotional,
  parseRiskLimits,
  type RiskContext,
  type RiskLimits,
  type RiskOutcome,
  type RiskPhase,
  type RiskRule,
  type RiskVerdict,
  riskLimitsSchema,
  rulesFromLimits,
} from "./trading/risk.js";
export type { TradingNotice } from "./trading/trading.js";
export { compileTrigger, nextFires } from "./triggers/compile.js";
export { nextCronFire } from "./triggers/cron.js";
export { type CronMatcher, compileCron } from "./triggers/cron-matcher.js";
export type { Trigger } from "./triggers/trigger.js";
export {
  type DurationInput,
  durationSchema,
  type InstantInput,
  instantSchema,
  jsonProblem,
  MAX_DATA_BYTES,
  MAX_DURATION_MS,
  MAX_INSTANT,
  // For adapter packages that validate their options the way core does.
  parseInput,
  positiveDurationSchema,
} from "./validation.js";
