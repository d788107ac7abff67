/**
 * The scheduler's trading features in one place: the handler context's `broker`, `propose` and
 * `submit`; the risk guard, order desk and approval queue behind them; the broker's connection
 * and order updates; and the notifications they raise. The Scheduler owns one and delegates.
 */

import { z } from "zod";
import type { Broker, BrokerConnectionDetail } from "../broker/broker.js";
import { RunCancelledError, toError } from "../errors.js";
import type { SchedulerEvents } from "../events.js";
import type { Logger } from "../logger.js";
import {
  clientOrderId,
  type OrderIntentInput,
  orderIntentSchema,
  parseOrderIntent,
} from "../orders/intent.js";
import type { JobContext, ProposalOutcome, ProposeGroupOptions, SubmitOutcome } from "../scheduler/job.js";
import type { Run } from "../scheduler/runner.js";
import type { Counters } from "../scheduler/status.js";
import type { ApprovalRecord, JsonValue, ScheduleRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import { jsonDataSchema, parseInput, positiveDurationSchema } from "../validation.js";
import { MAX_GROUP_SIZE } from "./approval-group.js";
import { ApprovalQueue, DEFAULT_APPROVAL_EXPIRY_MS } from "./approval-queue.js";
import { GroupApprovals, type GroupProposal, withGroupMeta } from "./group-approvals.js";
import { type MarketHours, OrderDesk, type PriceSource } from "./order-desk.js";
import { type ParsedRiskLimits, type RiskRule, rulesFromLimits } from "./risk.js";

/** The JSON-safe, documented fields of a connection detail (an adapter may pass a richer object). */
function connectionFacts(detail: BrokerConnectionDetail | undefined): {
  reason?: string;
  code?: string | number;
  dataLost?: boolean;
  rest?: { ok: boolean; state?: string };
  stream?: { ok: boolean; state?: string };
} {
  if (!detail) return {};
  const channel = (c: BrokerConnectionDetail["rest"]) =>
    c && typeof c.ok === "boolean"
      ? { ok: c.ok, ...(typeof c.state === "string" ? { state: c.state.slice(0, 100) } : {}) }
      : undefined;
  const rest = channel(detail.rest);
  const stream = channel(detail.stream);
  return {
    ...(typeof detail.reason === "string" ? { reason: detail.reason.slice(0, 500) } : {}),
    ...(typeof detail.code === "string" || (typeof detail.code === "number" && Number.isFinite(detail.code))
      ? { code: detail.code }
      : {}),
    ...(typeof detail.dataLost === "boolean" ? { dataLost: detail.dataLost } : {}),
    ...(rest ? { rest } : {}),
    ...(stream ? { stream } : {}),
  };
}

/** Least time between two reconcile passes in maintenance (each reads the broker's open orders). */
const RECONCILE_EVERY_MS = 60_000;

/** A notification the trading features raise (delivered by the scheduler's notifiers). */
export interface TradingNotice {
  kind: string;
  severity: "info" | "warning" | "critical";
  subject: string;
  body: string;
  data: JsonValue;
}

export type { Notification, Notifier } from "../notify/notifier.js";

/** The trading fields of a handler context. */
export type TradingContext = Pick<JobContext, "broker" | "propose" | "submit" | "proposeGroup">;

const groupIntentsSchema = z.array(z.unknown()).min(1).max(MAX_GROUP_SIZE);
const groupOptionsSchema = z.strictObject({
  rationale: z.string().max(5000).optional(),
  riskLevel: z.enum(["low", "medium", "high"]).optional(),
  supportingData: jsonDataSchema.optional(),
  expiresIn: positiveDurationSchema.optional(),
});

/** Options of {@link Trading}, already validated by the Scheduler. */
export interface TradingOptions {
  broker: Broker | null;
  /** Scheduler-wide limits. */
  risk: ParsedRiskLimits;
  /** Custom rules, checked after the limits' rules. */
  riskRules: readonly RiskRule[];
  approvalExpiryMs: number;
  prices: PriceSource | null;
  marketHours: MarketHours | null;
}

/** What Trading needs from the scheduler. */
export interface TradingDeps {
  storage: Storage;
  clock: Clock;
  counters: Counters;
  logger: Logger;
  emit<K extends keyof SchedulerEvents>(name: K, payload: SchedulerEvents[K]): void;
  audit(
    actor: string,
    action: string,
    subjectType: string,
    subjectId: string | null,
    details: JsonValue | null,
  ): Promise<void>;
  notify(notice: TradingNotice): void;
  reportError(error: unknown, context: string): void;
  /** Runs work the scheduler's stop() must wait for (it touches storage); failures are reported. */
  background(task: Promise<unknown>, context: string): void;
  /** Lets stop() wait for `task` too, without reporting its failure (the caller gets it). */
  track(task: Promise<unknown>): void;
}

/** Trading features of one scheduler. */
export class Trading {
  readonly desk: OrderDesk;
  readonly approvals: ApprovalQueue;
  readonly groups: GroupApprovals;
  private readonly broker: Broker | null;
  private readonly expiryMs: number;
  private readonly scheduleRules = new Map<string, { revision: number; rules: RiskRule[] }>();
  /** Approvals created per execution, announced in one notification when the run ends. */
  private readonly proposed = new Map<string, ApprovalRecord[]>();
  private readonly offs: (() => void)[] = [];
  private connectedByUs = false;
  /** A broker connect this scheduler started and that has not settled yet. */
  private connecting: Promise<void> | null = null;
  /** Set by {@link Trading.halt}: periodic work ends at its next step, a pending connect is not waited for. */
  private halted = false;
  private resolveHalt: () => void = () => {};
  private haltSignal: Promise<void> = this.armHalt();
  private lastConnected: boolean | null = null;
  /** When maintenance last reconciled the stored orders with the broker (-Infinity: due now). */
  private lastReconcileAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: TradingDeps,
    options: TradingOptions,
    private readonly scheduleOf: (id: string) => ScheduleRecord | null,
  ) {
    this.broker = options.broker;
    this.expiryMs = options.approvalExpiryMs;
    this.desk = new OrderDesk({
      storage: deps.storage,
      broker: options.broker,
      clock: deps.clock,
      counters: deps.counters,
      rules: [...rulesFromLimits(options.risk), ...options.riskRules],
      prices: options.prices,
      marketHours: options.marketHours,
      emit: deps.emit,
      report: (error, context) => deps.reportError(error, context),
    });
    this.approvals = new ApprovalQueue({
      storage: deps.storage,
      clock: deps.clock,
      desk: this.desk,
      counters: deps.counters,
      emit: deps.emit,
      audit: (actor, action, subjectId, details, subjectType) =>
        deps.audit(actor, action, subjectType ?? "approval", subjectId, details),
      rulesFor: (scheduleId) => this.rulesFor(scheduleId),
    });
    this.groups = new GroupApprovals({
      storage: deps.storage,
      clock: deps.clock,
      desk: this.desk,
      queue: this.approvals,
      counters: deps.counters,
      emit: deps.emit,
      audit: (actor, action, subjectId, details, subjectType) =>
        deps.audit(actor, action, subjectType ?? "approval", subjectId, details),
      rulesFor: (scheduleId) => this.rulesFor(scheduleId),
      scheduleGone: (scheduleId) => this.approvals.scheduleGone(scheduleId),
    });
  }

  /** The schedule's own limits as rules (cached per revision). They never repeat the broker-connection rule. */
  rulesFor(scheduleId: string | null): readonly RiskRule[] {
    if (scheduleId === null) return [];
    const schedule = this.scheduleOf(scheduleId);
    if (!schedule?.risk) return [];
    const cached = this.scheduleRules.get(scheduleId);
    if (cached && cached.revision === schedule.revision) return cached.rules;
    const limits = schedule.risk as ParsedRiskLimits;
    const rules = rulesFromLimits({
      ...limits,
      requireBrokerConnection: limits.requireBrokerConnection ?? false,
    });
    this.scheduleRules.set(scheduleId, { revision: schedule.revision, rules });
    return rules;
  }

  /** Whether fires of `schedule` may run now (its `requireBrokerConnection`). */
  brokerReady(schedule: ScheduleRecord): boolean {
    if (!schedule.requireBrokerConnection) return true;
    return this.broker?.isConnected() ?? false;
  }

  /**
   * The trading part of a handler context: `broker`, `propose`, `submit`. Intent positions count
   * per attempt. Once the run is over (succeeded, timed out, cancelled, stopped) its handler can
   * place nothing more: a handler that ignored its signal must not trade after its outcome was
   * recorded, nor touch a storage its host may be closing. Calls in flight are waited for by stop().
   */
  contextExtras(run: Run, schedule: ScheduleRecord): TradingContext {
    const execution = run.execution;
    let next = 0;
    const fenced = <T>(call: () => Promise<T>): Promise<T> => {
      if (run.phase === "done") {
        return Promise.reject(
          new RunCancelledError(
            "RUN_CANCELLED",
            `the run of ${execution.id} is over: its handler can place no more orders`,
          ),
        );
      }
      const pending = call();
      this.deps.track(pending);
      return pending;
    };
    const proposeAt = async (input: OrderIntentInput, index: number): Promise<ProposalOutcome> => {
      const intent = parseOrderIntent(input);
      const { result, record, created } = await this.approvals.propose({
        intent,
        clientOrderId: clientOrderId(execution.idempotencyKey, index),
        intentIndex: index,
        scheduleId: schedule.id,
        executionId: execution.id,
        fireKey: execution.idempotencyKey,
        expiryMs: schedule.approvalExpiryMs ?? this.expiryMs,
      });
      if (created && record.status === "pending") {
        const list = this.proposed.get(execution.id) ?? [];
        list.push(record);
        this.proposed.set(execution.id, list);
      }
      return result;
    };
    const submitAt = async (input: OrderIntentInput): Promise<SubmitOutcome> => {
      const index = next++;
      if (schedule.requiresApproval) {
        const p = await proposeAt(input, index);
        if (p.status === "rejected" && p.rule) {
          return {
            status: "rejected",
            clientOrderId: p.clientOrderId,
            rule: p.rule,
            reason: p.reason ?? "",
          };
        }
        return {
          status: "queued",
          clientOrderId: p.clientOrderId,
          approvalId: p.approvalId,
          approvalStatus: p.status,
        };
      }
      const intent = parseOrderIntent(input);
      return this.desk.submit({
        intent,
        clientOrderId: clientOrderId(execution.idempotencyKey, index),
        scheduleId: schedule.id,
        executionId: execution.id,
        approvalId: null,
        extraRules: this.rulesFor(schedule.id),
      });
    };
    const proposeGroupAt = async (
      inputs: OrderIntentInput[],
      options: ProposeGroupOptions | undefined,
    ): Promise<GroupProposal> => {
      const list = parseInput(groupIntentsSchema, inputs, "proposeGroup", "intents", "intents");
      const meta = parseInput(groupOptionsSchema, options ?? {}, "proposeGroup", "options", "options");
      const intents = list.map((input, i) =>
        parseInput(
          orderIntentSchema,
          withGroupMeta(input as OrderIntentInput, meta),
          "proposeGroup",
          `intents.${i}`,
        ),
      );
      // The positions are taken before anything awaits, so calls made side by side never share one.
      const firstIndex = next;
      next += intents.length;
      const { proposal, created } = await this.groups.propose({
        intents,
        firstIndex,
        clientOrderIds: intents.map((_, i) => clientOrderId(execution.idempotencyKey, firstIndex + i)),
        scheduleId: schedule.id,
        executionId: execution.id,
        fireKey: execution.idempotencyKey,
        expiryMs: meta.expiresIn ?? schedule.approvalExpiryMs ?? this.expiryMs,
      });
      if (created && proposal.status === "pending") {
        const pending = this.proposed.get(execution.id) ?? [];
        pending.push(...proposal.approvals);
        this.proposed.set(execution.id, pending);
      }
      return proposal;
    };
    return {
      broker: this.broker,
      propose: (input) => fenced(() => proposeAt(input, next++)),
      submit: (input) => fenced(() => submitAt(input)),
      proposeGroup: (inputs, options) => fenced(() => proposeGroupAt(inputs, options)),
    };
  }

  /** After a run: one notification for all the approvals it requested. */
  runSettled(run: Run): void {
    const list = this.proposed.get(run.execution.id);
    if (!list) return;
    this.proposed.delete(run.execution.id);
    const first = list[0] as ApprovalRecord;
    const lines = list.map((a) => {
      const i = a.intent as { side?: string; qty?: string; notional?: string; symbol?: string };
      return `${i.side ?? "?"} ${i.qty ?? `$${i.notional ?? "?"}`} ${i.symbol ?? "?"} (risk ${a.riskLevel}${a.confidence === null ? "" : `, confidence ${a.confidence}`})`;
    });
    this.deps.notify({
      kind: "approvals_requested",
      severity: "info",
      subject: `${list.length} order(s) from ${first.scheduleId} await approval`,
      body: `${lines.join("\n")}\nExpires ${new Date(first.expiresAt).toISOString()}.`,
      data: {
        scheduleId: first.scheduleId,
        executionId: run.execution.id,
        approvalIds: list.map((a) => a.id),
        expiresAt: first.expiresAt,
      },
    });
  }

  private connectionChanged(connected: boolean, detail?: BrokerConnectionDetail): void {
    if (!this.broker) return;
    // Updates pushed while the connection was down, or that the broker says it lost, may be
    // missing from the records: the next maintenance re-reads the open orders.
    if (detail?.dataLost || (connected && this.lastConnected === false))
      this.lastReconcileAt = Number.NEGATIVE_INFINITY;
    if (connected === this.lastConnected) return;
    const at = this.deps.clock.now();
    const was = this.lastConnected;
    this.lastConnected = connected;
    const known = connectionFacts(detail);
    this.deps.emit(connected ? "broker:connected" : "broker:disconnected", {
      broker: this.broker.name,
      at,
      ...(detail ? { detail } : {}),
    });
    if (was === null && connected) return; // the first connection is not news
    const why = known.reason === undefined ? "" : ` (${known.reason})`;
    this.deps.notify({
      kind: connected ? "broker_reconnected" : "broker_disconnected",
      severity: connected ? "info" : "warning",
      subject: `Broker ${this.broker.name} ${connected ? "reconnected" : "disconnected"}`,
      body: `${this.broker.name} ${connected ? "is connected again" : "lost its connection"} at ${new Date(at).toISOString()}${why}.${known.dataLost ? " It may have lost order updates meanwhile: the open orders are re-read from the broker." : ""}`,
      data: { broker: this.broker.name, at, ...known },
    });
  }

  /** Connects the broker if needed and listens to its order updates and connection changes. */
  async start(): Promise<void> {
    if (this.halted) {
      this.halted = false;
      this.haltSignal = this.armHalt();
    }
    const broker = this.broker;
    if (!broker) return;
    if (broker.onOrderUpdate) {
      this.offs.push(
        broker.onOrderUpdate((update) => {
          this.deps.background(this.desk.applyUpdate(update), `order update ${update.order.clientOrderId}`);
        }),
      );
    }
    if (broker.onConnectionChange)
      this.offs.push(broker.onConnectionChange((c, detail) => this.connectionChanged(c, detail)));
    await this.ensureConnected();
    // Fills and cancels that happened while no instance was listening.
    await this.reconcile();
  }

  /** Re-reads the stored open orders from the broker (see OrderDesk.reconcile); failures are reported. */
  private async reconcile(): Promise<void> {
    this.lastReconcileAt = this.deps.clock.now();
    try {
      await this.desk.reconcile();
    } catch (error) {
      this.deps.reportError(error, "reconciling orders with the broker");
    }
  }

  private async ensureConnected(): Promise<void> {
    const broker = this.broker;
    if (!broker) return;
    if (!broker.isConnected()) {
      this.connecting ??= broker.connect().then(
        () => {
          this.connecting = null;
          this.connectedByUs = true;
          // Connected after stop() let go of it: nobody else will disconnect it.
          if (this.halted && this.offs.length === 0) void broker.disconnect().catch(() => {});
        },
        (error: unknown) => {
          this.connecting = null;
          if (!this.halted) this.deps.reportError(error, `connecting broker ${broker.name}`);
        },
      );
      // A stopping scheduler does not wait for a connect (an adapter may wait seconds for a
      // gateway that is away); the connect itself touches nothing of ours.
      await Promise.race([this.connecting, this.haltSignal]);
      if (this.halted) return;
    }
    this.connectionChanged(broker.isConnected());
  }

  /**
   * Ends periodic work early: a maintenance pass in progress returns at its next step instead of
   * waiting for a broker connect. Called as the scheduler starts stopping.
   */
  halt(): void {
    this.halted = true;
    this.resolveHalt();
  }

  private armHalt(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolveHalt = resolve;
    });
  }

  /**
   * Periodic work: expire approvals, resubmit stuck approved ones, reconnect the broker, and once a
   * minute (or right after a reconnect) reconcile the stored open orders with the broker.
   */
  async maintain(): Promise<void> {
    const expired = await this.approvals.sweep();
    if (expired.length > 0) {
      this.deps.notify({
        kind: "approval_expired",
        severity: "warning",
        subject: `${expired.length} approval(s) expired undecided`,
        body: expired.map((a) => `${a.id} from ${a.scheduleId}`).join("\n"),
        data: { approvalIds: expired.map((a) => a.id) },
      });
    }
    if (this.halted) return;
    await this.ensureConnected();
    if (this.halted) return;
    if (this.deps.clock.now() - this.lastReconcileAt >= RECONCILE_EVERY_MS) await this.reconcile();
  }

  /** Stops listening; disconnects the broker if this scheduler connected it. */
  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    if (this.broker && (this.connectedByUs || this.connecting)) {
      this.connectedByUs = false;
      await this.broker
        .disconnect()
        .catch((error: unknown) => this.deps.reportError(toError(error), "disconnecting the broker"));
    }
    this.lastConnected = null;
    this.lastReconcileAt = Number.NEGATIVE_INFINITY;
  }
}

export { DEFAULT_APPROVAL_EXPIRY_MS };
