/**
 * The operations through a running instance's REST API (@tradecron/http): what commands use with
 * `--url` (or TRADECRON_URL), and on their own when the storage cannot be opened from here (a
 * file store the service holds) or the order must be placed by the service (the paper broker's
 * account lives in its process). Everything happens inside the service: `run-job` runs the
 * handler there, `approvals approve` submits through its broker. The audit actor is the token's
 * name, never a value the caller sends.
 */

import {
  type ApprovalRecord,
  type ControlRecord,
  type DecisionResult,
  type ExecutionRecord,
  type ExecutionStatus,
  FINAL_STATUSES,
  NotFoundError,
  type Page,
  type PreviewFire,
  type ScheduleInput,
} from "@tradecron/core";
import { CliError, EXIT } from "../errors.js";
import type { ApiClient } from "./api-client.js";
import { declaredEntries } from "./declared.js";
import type {
  ApprovalQuery,
  HistoryQuery,
  Operations,
  PauseAllResult,
  RunJobResult,
  ScheduleStatusView,
  ScheduleView,
  StatusView,
} from "./operations.js";
import {
  approvalRecord,
  controlRecord,
  executionRecord,
  msOrNull,
  previewFire,
  scheduleRecord,
} from "./remote-records.js";

const RAN = "running,succeeded,failed,timed_out,cancelled";
const FINAL = new Set<ExecutionStatus>(FINAL_STATUSES);
/** How often a waiting run-job asks again: from 100 ms, growing to 1 s. */
const POLL_FIRST_MS = 100;
const POLL_MAX_MS = 1000;

const list = (values: readonly string[] | undefined) => (values?.length ? values.join(",") : undefined);

/** What a remote instance needs to be operated. */
export interface RemoteOptions {
  client: ApiClient;
  /** The schedules the local config declares, when there is one (for `schedules` and `preview`). */
  declared: readonly ScheduleInput[] | null;
  /** Told when a run-job is interrupted: the run goes on in the instance. */
  onInterruptedRun?: (executionId: string) => void;
}

/** Operations over the API of a running instance. */
export class RemoteOperations implements Operations {
  readonly mode = "remote" as const;
  private readonly client: ApiClient;
  private waiting: string | null = null;

  constructor(private readonly options: RemoteOptions) {
    this.client = options.client;
  }

  /** The API's URL. */
  get url(): string {
    return this.client.baseUrl;
  }

  private get api() {
    return this.client.api;
  }

  private async nextFire(id: string): Promise<PreviewFire | null> {
    try {
      const page = await this.client.call(
        this.api.GET("/schedules/{id}/preview", { params: { path: { id }, query: { count: "1" } } }),
      );
      const first = page.fires[0];
      return first ? previewFire(first) : null;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  private async lastRun(scheduleId: string): Promise<ExecutionRecord | null> {
    const page = await this.client.call(
      this.api.GET("/executions", { params: { query: { scheduleId, status: RAN, limit: "1" } } }),
    );
    const first = page.items[0];
    return first ? executionRecord(first) : null;
  }

  private async allSchedules() {
    const items = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.call(
        this.api.GET("/schedules", { params: { query: { limit: "500", ...(cursor ? { cursor } : {}) } } }),
      );
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  async schedules(): Promise<ScheduleView[]> {
    const stored = (await this.allSchedules()).map(scheduleRecord);
    const entries = declaredEntries(stored, this.options.declared, Date.now());
    return Promise.all(
      entries.map(async (e) => ({
        ...e,
        next: e.schedule ? await this.nextFire(e.id) : null,
        lastRun: e.schedule ? await this.lastRun(e.id) : null,
      })),
    );
  }

  async preview(id: string, count: number) {
    try {
      const page = await this.client.call(
        this.api.GET("/schedules/{id}/preview", {
          params: { path: { id }, query: { count: String(count) } },
        }),
      );
      return { scheduleId: id, declaredOnly: false, fires: page.fires.map(previewFire) };
    } catch (error) {
      const input = this.options.declared?.find((s) => s.id === id);
      if (!(error instanceof NotFoundError) || !input) throw error;
      const page = await this.client.call(
        this.api.POST("/preview", { body: { schedule: input as never, count } }),
      );
      return { scheduleId: id, declaredOnly: true, fires: page.fires.map(previewFire) };
    }
  }

  async history(query: HistoryQuery): Promise<Page<ExecutionRecord>> {
    const page = await this.client.call(
      this.api.GET("/executions", {
        params: {
          query: {
            limit: String(query.limit),
            ...(query.scheduleId ? { scheduleId: query.scheduleId } : {}),
            ...(query.status?.length ? { status: list(query.status) } : {}),
            ...(query.from === undefined ? {} : { from: new Date(query.from).toISOString() }),
            ...(query.cursor ? { cursor: query.cursor } : {}),
          },
        },
      }),
    );
    return { items: page.items.map(executionRecord), nextCursor: page.nextCursor };
  }

  async status(): Promise<StatusView> {
    const [status, controls, health, active] = await Promise.all([
      this.client.call(this.api.GET("/status")),
      this.client.call(this.api.GET("/controls")),
      this.client.call(this.api.GET("/health")).catch(() => null),
      this.client.call(
        this.api.GET("/executions", { params: { query: { status: "claimed,running", limit: "1000" } } }),
      ),
    ]);
    const schedules: ScheduleStatusView[] = await Promise.all(
      status.schedules.map(async (s) => ({
        id: s.id,
        job: s.job,
        enabled: s.enabled,
        paused: s.paused,
        next: await this.nextFire(s.id),
        lastRun: await this.lastRun(s.id),
        lastSuccessAt: msOrNull(s.lastSuccessAt),
      })),
    );
    return {
      source: "api",
      control: controlRecord(controls),
      approvalsPending: status.approvalsPending,
      schedules,
      active: active.items.map(executionRecord),
      // In the status file's words, so `status` prints the service line the same way.
      service: {
        path: this.url,
        snapshot: {
          state: status.state,
          instance_id: status.instanceId,
          last_heartbeat: status.heartbeatAt,
          scheduler_started: status.startedAt,
          health: { status: health?.status ?? "unhealthy", reasons: health?.reasons ?? [] },
        },
      },
    };
  }

  private async resolveTarget(target: string): Promise<string> {
    try {
      const s = await this.client.call(this.api.GET("/schedules/{id}", { params: { path: { id: target } } }));
      return s.id;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const byJob = await this.client.call(
      this.api.GET("/schedules", { params: { query: { job: target, limit: "500" } } }),
    );
    const only = byJob.items[0];
    if (byJob.items.length === 1 && only) return only.id;
    if (byJob.items.length > 1) {
      throw new CliError(
        "VALIDATION",
        `job '${target}' has ${byJob.items.length} schedules (${byJob.items.map((s) => s.id).join(", ")}): name the schedule`,
        EXIT.USAGE,
        { field: "target" },
      );
    }
    const declared = this.options.declared?.some((s) => s.id === target || s.job === target);
    throw new NotFoundError(
      "SCHEDULE_NOT_FOUND",
      declared
        ? `'${target}' is declared in the config but not stored yet: 'tradecron start' declares it`
        : `no schedule or job named '${target}' at ${this.url}`,
      { field: "target" },
    );
  }

  /**
   * Asks the instance to run the schedule now (the handler runs in the service, under the
   * schedule's overlap policy) and follows the execution until it ends. Polling rather than one
   * long request (`wait: true`): a 20-minute job outlives HTTP clients' and proxies' timeouts.
   */
  async runJob(target: string): Promise<RunJobResult> {
    const scheduleId = await this.resolveTarget(target);
    let e = executionRecord(
      await this.client.call(
        this.api.POST("/schedules/{id}/trigger", {
          params: { path: { id: scheduleId } },
          body: { wait: false },
        }),
      ),
    );
    this.waiting = e.id;
    let delay = POLL_FIRST_MS;
    while (!FINAL.has(e.status)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
      const detail = await this.client.call(
        this.api.GET("/executions/{id}", { params: { path: { id: e.id } } }),
      );
      e = executionRecord(detail.execution);
    }
    this.waiting = null;
    return { scheduleId, execution: e };
  }

  async pauseAll(options: { reason?: string; cancelOpenOrders?: boolean }): Promise<PauseAllResult> {
    const r = await this.client.call(
      this.api.POST("/controls/pause-all", {
        body: {
          ...(options.reason ? { reason: options.reason } : {}),
          cancelOpenOrders: options.cancelOpenOrders === true,
        },
      }),
    );
    return { control: controlRecord(r), cancelledOrders: r.cancelledOrders };
  }

  async resumeAll(): Promise<ControlRecord> {
    return controlRecord(await this.client.call(this.api.POST("/controls/resume-all", { body: {} })));
  }

  async approvals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    const page = await this.client.call(
      this.api.GET("/approvals", {
        params: {
          query: {
            limit: String(query.limit),
            ...(query.status?.length ? { status: list(query.status) } : {}),
            ...(query.riskLevel?.length ? { riskLevel: list(query.riskLevel) } : {}),
            ...(query.scheduleId ? { scheduleId: query.scheduleId } : {}),
            ...(query.cursor ? { cursor: query.cursor } : {}),
          },
        },
      }),
    );
    return { items: page.items.map(approvalRecord), nextCursor: page.nextCursor };
  }

  async approve(ids: string[], options: { reason?: string }): Promise<DecisionResult[]> {
    const r = await this.client.call(
      this.api.POST("/approvals/approve", {
        body: { ids, ...(options.reason ? { reason: options.reason } : {}) },
      }),
    );
    return r.results;
  }

  async reject(ids: string[], options: { reason?: string }): Promise<DecisionResult[]> {
    const r = await this.client.call(
      this.api.POST("/approvals/reject", {
        body: { ids, ...(options.reason ? { reason: options.reason } : {}) },
      }),
    );
    return r.results;
  }

  async close(): Promise<void> {
    if (this.waiting) this.options.onInterruptedRun?.(this.waiting);
    this.waiting = null;
    this.client.close();
  }
}
