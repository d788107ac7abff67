/**
 * The operations straight against storage, for SQL storages (several processes may open them at
 * once, so the commands work while the service runs). The commands' process builds a passive
 * scheduler from the same config: paused on this instance, it fires nothing and takes nothing
 * over, but it can claim a manual fire, write the pause-all switch the service instances watch,
 * and decide approvals, each recorded in the audit log with the actor.
 */

import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import {
  type ApprovalRecord,
  type ControlRecord,
  type DecisionResult,
  type ExecutionRecord,
  type ExecutionStatus,
  type Logger,
  NotFoundError,
  type Page,
  type ScheduleRecord,
  type Scheduler,
} from "@tradecron/core";
import { serviceOnlyBroker } from "../build/brokers.js";
import { buildRuntime, type Runtime } from "../build/runtime.js";
import { describeStorage } from "../build/storage.js";
import type { ResolvedConfig } from "../config/validate.js";
import { CliError, EXIT } from "../errors.js";
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

const RAN: ExecutionStatus[] = ["running", "succeeded", "failed", "timed_out", "cancelled"];

/** Operations on the storage itself. */
export class DirectOperations implements Operations {
  readonly mode = "direct" as const;
  private runtime: Runtime | null = null;

  /** Why only the service may trade on the configured broker (null: any process may). */
  private readonly serviceOnly: string | null;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly logger: Logger,
    private readonly env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.serviceOnly = serviceOnlyBroker(config.broker);
  }

  /**
   * Whether this process builds the broker when asked to: a shared one, or the paper broker (an
   * account of this command's own). Never a second connection of a service-only broker (IBKR:
   * TWS would refuse the service's client id, or take orders this process cannot cancel).
   */
  buildsBroker(): boolean {
    const b = this.config.broker;
    return this.serviceOnly === null || (b?.kind === "type" && b.config.type === "paper");
  }

  /**
   * Opens the storage through a passive scheduler (once per process: the first call decides
   * whether the broker is built). Throws a CliError with code STORAGE_LOCKED when a running
   * instance holds a file store.
   */
  async connect(options: { broker?: boolean } = {}): Promise<Scheduler> {
    return this.open(options);
  }

  private async open(options: { broker?: boolean } = {}): Promise<Scheduler> {
    if (this.runtime) return this.runtime.scheduler;
    const s = this.config.storage;
    if (s.type === "memory") {
      throw new CliError(
        "VALIDATION",
        "memory storage lives and dies inside the 'tradecron start' process: commands need sqlite or postgres storage, or the instance's API (--url and --token, or its http block and a status file here)",
        EXIT.USAGE,
        { field: "storage.type" },
      );
    }
    const runtime = await buildRuntime(this.config, {
      logger: this.logger,
      broker: (options.broker ?? false) && this.buildsBroker(),
      env: this.env,
      instanceId: `cli:${hostname()}:${process.pid}`,
    });
    // Paused on this instance before it starts: it never fires a schedule nor takes a fire over.
    runtime.scheduler.pause();
    try {
      await runtime.scheduler.start();
    } catch (error) {
      await runtime.storage.close().catch(() => {});
      const e = error as { code?: string; message?: string };
      if (e.code === "STORAGE_LOCKED") {
        throw new CliError(
          "STORAGE_LOCKED",
          `${describeStorage(s)} is held by a running instance. File storage has a single writer, so commands go through that instance's HTTP API: give its address and a token (--url and --token, or TRADECRON_URL and TRADECRON_TOKEN), or let the config's http block and status file say where it is. (${e.message ?? ""})`,
          EXIT.UNREACHABLE,
          { field: "storage", cause: error },
        );
      }
      throw new CliError(
        "STORAGE",
        `cannot open the storage (${describeStorage(s)}): ${e.message ?? String(error)}`,
        EXIT.UNREACHABLE,
        {
          field: "storage",
          cause: error,
        },
      );
    }
    this.runtime = runtime;
    return runtime.scheduler;
  }

  private async lastRun(scheduler: Scheduler, scheduleId: string): Promise<ExecutionRecord | null> {
    return (await scheduler.listExecutions({ scheduleId, status: RAN, limit: 1 })).items[0] ?? null;
  }

  private async nextFire(scheduler: Scheduler, id: string) {
    return (await scheduler.preview(id, { count: 1 }).catch(() => []))[0] ?? null;
  }

  async schedules(): Promise<ScheduleView[]> {
    const scheduler = await this.open();
    const stored = await scheduler.listSchedules();
    const views: ScheduleView[] = [];
    for (const e of declaredEntries(stored, this.config.schedules, scheduler.clock.now())) {
      views.push({
        ...e,
        next: e.schedule ? await this.nextFire(scheduler, e.id) : null,
        lastRun: e.schedule ? await this.lastRun(scheduler, e.id) : null,
      });
    }
    return views;
  }

  async preview(id: string, count: number) {
    const scheduler = await this.open();
    try {
      return { scheduleId: id, declaredOnly: false, fires: await scheduler.preview(id, { count }) };
    } catch (error) {
      const input = this.config.schedules.find((s) => s.id === id);
      if (!(error instanceof NotFoundError) || !input) throw error;
      return { scheduleId: id, declaredOnly: true, fires: await scheduler.preview(input, { count }) };
    }
  }

  async history(query: HistoryQuery): Promise<Page<ExecutionRecord>> {
    const scheduler = await this.open();
    return scheduler.listExecutions({
      limit: query.limit,
      ...(query.scheduleId ? { scheduleId: query.scheduleId } : {}),
      ...(query.status?.length ? { status: query.status } : {}),
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
  }

  private async readStatusFile(): Promise<StatusView["service"]> {
    const path = this.config.statusFile?.path;
    if (!path) return null;
    try {
      return { path, snapshot: JSON.parse(await readFile(path, "utf8")) as Record<string, unknown> };
    } catch {
      return null;
    }
  }

  async status(): Promise<StatusView> {
    let scheduler: Scheduler;
    try {
      scheduler = await this.open();
    } catch (error) {
      // File storage held by the service: its status file still says how it is.
      const service = await this.readStatusFile();
      if (!service || (error as CliError).code !== "STORAGE_LOCKED") throw error;
      return {
        source: "status-file",
        control: {
          pausedAll: Boolean(service.snapshot.paused_all),
          pausedAt: null,
          pausedBy: (service.snapshot.paused_all_by as string | null) ?? null,
          reason: null,
          revision: 0,
        },
        approvalsPending: Number(service.snapshot.approvals_pending ?? 0),
        schedules: [],
        active: [],
        service,
      };
    }
    const storage = (this.runtime as Runtime).storage;
    const records = await scheduler.listSchedules();
    const schedules: ScheduleStatusView[] = [];
    const active: ExecutionRecord[] = [];
    for (const r of records) {
      const [next, lastRun, ok, running] = await Promise.all([
        this.nextFire(scheduler, r.id),
        this.lastRun(scheduler, r.id),
        scheduler.listExecutions({ scheduleId: r.id, status: "succeeded", limit: 1 }),
        storage.activeExecutions(r.id),
      ]);
      active.push(...running);
      schedules.push({
        id: r.id,
        job: r.job,
        enabled: r.enabled,
        paused: r.paused,
        next,
        lastRun,
        lastSuccessAt: ok.items[0]?.endedAt ?? null,
      });
    }
    return {
      source: "storage",
      control: await storage.getControl(),
      approvalsPending: await scheduler.pendingApprovalCount(),
      schedules,
      active,
      service: await this.readStatusFile(),
    };
  }

  private async resolveTarget(scheduler: Scheduler, target: string): Promise<ScheduleRecord> {
    try {
      return await scheduler.getSchedule(target);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    const byJob = (await scheduler.listSchedules()).filter((s) => s.job === target);
    if (byJob.length === 1) return byJob[0] as ScheduleRecord;
    if (byJob.length > 1) {
      throw new CliError(
        "VALIDATION",
        `job '${target}' has ${byJob.length} schedules (${byJob.map((s) => s.id).join(", ")}): name the schedule`,
        EXIT.USAGE,
        { field: "target" },
      );
    }
    const declared = this.config.schedules.some((s) => s.id === target || s.job === target);
    throw new NotFoundError(
      "SCHEDULE_NOT_FOUND",
      declared
        ? `'${target}' is declared in ${this.config.file} but not stored yet: 'tradecron start' declares it`
        : `no schedule or job named '${target}'`,
      { field: "target" },
    );
  }

  async runJob(target: string, options: { actor: string }): Promise<RunJobResult> {
    const scheduler = await this.open({ broker: true });
    const schedule = await this.resolveTarget(scheduler, target);
    let warned = false;
    const warn = () => {
      if (warned || this.serviceOnly === null) return;
      warned = true;
      this.logger.warn(
        { scheduleId: schedule.id },
        `${this.serviceOnly}: the orders of this run went to this command's own paper account (run it through the instance's API to trade on the service's: --url and --token)`,
      );
    };
    if (this.serviceOnly !== null && !this.buildsBroker()) {
      this.logger.warn(
        { scheduleId: schedule.id },
        `${this.serviceOnly}: this run has no broker (its orders are refused); run it through the instance's API: --url and --token`,
      );
    }
    scheduler.on("order:submitted", warn);
    try {
      const execution = await scheduler.trigger(schedule.id, { actor: options.actor });
      return { scheduleId: schedule.id, execution };
    } finally {
      scheduler.off("order:submitted", warn);
    }
  }

  async pauseAll(options: {
    actor: string;
    reason?: string;
    cancelOpenOrders?: boolean;
  }): Promise<PauseAllResult> {
    const canCancel = Boolean(options.cancelOpenOrders) && this.serviceOnly === null;
    const scheduler = await this.open({ broker: canCancel });
    // The pause itself never waits on the broker: it is written first, whatever happens next.
    const result = await scheduler.pauseAll({
      actor: options.actor,
      ...(options.reason ? { reason: options.reason } : {}),
      cancelOpenOrders: canCancel,
    });
    if (options.cancelOpenOrders && !canCancel) {
      throw new CliError(
        "BROKER_NOT_CONFIGURED",
        `pause-all is in force, but open orders were NOT cancelled: ${this.serviceOnly} (run 'pause-all --cancel-orders' through its API: --url and --token)`,
        EXIT.FAILED,
      );
    }
    const audit = canCancel ? await scheduler.listAudit({ action: "orders.cancel_all", limit: 1 }) : null;
    const cancelled = (audit?.items[0]?.details ?? null) as PauseAllResult["cancelledOrders"];
    return { control: result, cancelledOrders: cancelled };
  }

  async resumeAll(options: { actor: string }): Promise<ControlRecord> {
    const scheduler = await this.open();
    return scheduler.resumeAll({ actor: options.actor });
  }

  async approvals(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    const scheduler = await this.open();
    return scheduler.listApprovals({
      limit: query.limit,
      ...(query.status?.length ? { status: query.status } : {}),
      ...(query.riskLevel?.length ? { riskLevel: query.riskLevel } : {}),
      ...(query.scheduleId ? { scheduleId: query.scheduleId } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
  }

  async approve(ids: string[], options: { actor: string; reason?: string }): Promise<DecisionResult[]> {
    if (this.serviceOnly !== null) {
      throw new CliError(
        "BROKER_NOT_CONFIGURED",
        `cannot approve from this process: ${this.serviceOnly}, and approving submits the order. Approve through the instance's API (--url and --token, or its http block and a status file here); 'approvals reject' works here`,
        EXIT.USAGE,
        { field: "broker" },
      );
    }
    const scheduler = await this.open({ broker: true });
    return scheduler.approve(ids, {
      actor: options.actor,
      ...(options.reason ? { reason: options.reason } : {}),
    });
  }

  async reject(ids: string[], options: { actor: string; reason?: string }): Promise<DecisionResult[]> {
    const scheduler = await this.open();
    return scheduler.reject(ids, {
      actor: options.actor,
      ...(options.reason ? { reason: options.reason } : {}),
    });
  }

  async close(timeoutMs = 30_000): Promise<void> {
    const runtime = this.runtime;
    this.runtime = null;
    if (!runtime) return;
    await runtime.scheduler.stop({ timeoutMs }).catch(() => {});
    await runtime.storage.close().catch(() => {});
  }
}
