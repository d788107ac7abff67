/**
 * What the commands do, as one interface with two implementations: {@link DirectOperations} acts
 * on the storage itself (SQLite, PostgreSQL; FileStorage only while no instance holds its lock),
 * and {@link RemoteOperations} calls a running instance's HTTP API (@tradecron/http). Commands
 * only render what comes back, so both give the same tables and the same `--json`.
 */

import type {
  ApprovalRecord,
  ApprovalStatus,
  ControlRecord,
  DecisionResult,
  ExecutionRecord,
  ExecutionStatus,
  Page,
  PreviewFire,
  RiskLevel,
  ScheduleRecord,
} from "@tradecron/core";

/** How a stored schedule relates to the config. */
export type DeclaredState =
  /** Stored as the config declares it. */
  | "in_sync"
  /** Declared, but stored differently: `tradecron start` will update it. */
  | "differs"
  /** Declared, not stored yet: `tradecron start` will create it. */
  | "missing"
  /** Stored with the declaration tag but no longer declared: `tradecron start` will remove it. */
  | "undeclared"
  /** Not from the config (created through the API). */
  | "external"
  /** No config to compare with (a remote command run without one). */
  | "unknown";

/** A schedule as `tradecron schedules` lists it. */
export interface ScheduleView {
  schedule: ScheduleRecord | null;
  id: string;
  declared: DeclaredState;
  /** Fields that differ from the config (for `differs`). */
  changed: string[];
  next: PreviewFire | null;
  lastRun: ExecutionRecord | null;
}

/** Filters of `tradecron history`. */
export interface HistoryQuery {
  scheduleId?: string;
  status?: ExecutionStatus[];
  from?: number;
  limit: number;
  cursor?: string;
}

/** Filters of `tradecron approvals list`. */
export interface ApprovalQuery {
  status?: ApprovalStatus[];
  riskLevel?: RiskLevel[];
  scheduleId?: string;
  limit: number;
  cursor?: string;
}

/** One schedule in `tradecron status`. */
export interface ScheduleStatusView {
  id: string;
  job: string;
  enabled: boolean;
  paused: boolean;
  next: PreviewFire | null;
  lastRun: ExecutionRecord | null;
  lastSuccessAt: number | null;
}

/** `tradecron status`. */
export interface StatusView {
  /** Where it came from: storage (direct), the instance's API (remote), or its status file. */
  source: "storage" | "api" | "status-file";
  control: ControlRecord;
  approvalsPending: number;
  schedules: ScheduleStatusView[];
  /** Fires claimed or running now, on any instance. */
  active: ExecutionRecord[];
  /** The service's status file, when the config names one and it exists. */
  service: { path: string; snapshot: Record<string, unknown> } | null;
}

/** `tradecron run-job`: which schedule ran, and its final execution. */
export interface RunJobResult {
  scheduleId: string;
  execution: ExecutionRecord;
}

/** `tradecron pause-all`. */
export interface PauseAllResult {
  control: ControlRecord;
  /** Open orders cancelled, when asked. */
  cancelledOrders: { cancelled: number; failed: { id: string; error: string }[] } | null;
}

/** The operations every command runs over. */
export interface Operations {
  /** `direct` (storage) or `remote` (HTTP API). */
  readonly mode: "direct" | "remote";
  schedules(): Promise<ScheduleView[]>;
  preview(
    id: string,
    count: number,
  ): Promise<{ scheduleId: string; declaredOnly: boolean; fires: PreviewFire[] }>;
  history(query: HistoryQuery): Promise<Page<ExecutionRecord>>;
  status(): Promise<StatusView>;
  /** Runs a schedule (or the one schedule of a job) now, as a manual fire by `actor`, and waits for it. */
  runJob(target: string, options: { actor: string }): Promise<RunJobResult>;
  pauseAll(options: { actor: string; reason?: string; cancelOpenOrders?: boolean }): Promise<PauseAllResult>;
  resumeAll(options: { actor: string }): Promise<ControlRecord>;
  approvals(query: ApprovalQuery): Promise<Page<ApprovalRecord>>;
  approve(ids: string[], options: { actor: string; reason?: string }): Promise<DecisionResult[]>;
  reject(ids: string[], options: { actor: string; reason?: string }): Promise<DecisionResult[]>;
  /** Stops whatever the operations started (waits for a run to finish within `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}
