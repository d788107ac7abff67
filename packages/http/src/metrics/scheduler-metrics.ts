/**
 * Prometheus metrics of one scheduler, in a prom-client registry of their own (one per router, so
 * two routers never collide and the host's default registry is left alone). Counters come from
 * the scheduler's events; gauges are read when scraped. Every label has a bounded set of values:
 * known enums map as they are, anything else becomes `other`, and no label carries an id.
 */

import type { Scheduler, SchedulerEvents } from "@tradecron/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const OUTCOMES = ["succeeded", "failed", "timed_out", "cancelled", "skipped"] as const;
const KINDS = new Set(["scheduled", "catchup", "manual", "backfill"]);
const SKIP_REASONS = new Set([
  "overlap",
  "overlap_buffer_full",
  "misfire",
  "coalesced",
  "paused",
  "paused_all",
  "disabled",
  "market_closed",
  "broker_disconnected",
]);
const ORDER_STATUSES = new Set([
  "submitted",
  "pending_new",
  "new",
  "accepted",
  "partially_filled",
  "filled",
  "pending_cancel",
  "canceled",
  "expired",
  "rejected",
  "replaced",
  "done_for_day",
]);
const STATES = ["stopped", "starting", "running", "paused", "stopping"] as const;
/** Distinct risk-rule labels kept before the rest count as `other` (custom rules are named by code, but stay bounded anyway). */
const MAX_RULE_LABELS = 32;

/** A value from `known`, or `other`. */
function bounded(value: string, known: ReadonlySet<string>): string {
  return known.has(value) ? value : "other";
}

/** The route label of an HTTP request: a route id, or `unmatched`. */
export type RouteLabel = string;

/** Metrics of one scheduler and of the router serving it. */
export class SchedulerMetrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  private readonly detach: () => void;
  private readonly ruleLabels = new Set<string>();
  private readonly httpRequests: Counter<"route" | "method" | "status">;
  private readonly httpDuration: Histogram<"route">;

  constructor(scheduler: Scheduler, options: { defaultMetrics: boolean; routeIds: readonly string[] }) {
    const registers = [this.registry];
    const fires = new Counter({
      name: "tradecron_fires_total",
      help: "Fires this instance claimed, by kind",
      labelNames: ["kind"] as const,
      registers,
    });
    const runs = new Counter({
      name: "tradecron_runs_total",
      help: "Fires that ended, by outcome",
      labelNames: ["outcome"] as const,
      registers,
    });
    const delay = new Histogram({
      name: "tradecron_fire_delay_seconds",
      help: "Delay between when a fire was due and when its first attempt started",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60],
      registers,
    });
    const missed = new Counter({
      name: "tradecron_missed_fires_total",
      help: "Fires missed while down, paused or blocked, by the misfire policy applied",
      labelNames: ["policy"] as const,
      registers,
    });
    const skipped = new Counter({
      name: "tradecron_skipped_fires_total",
      help: "Fires skipped, by reason",
      labelNames: ["reason"] as const,
      registers,
    });
    const retries = new Counter({
      name: "tradecron_retries_total",
      help: "Retry attempts started",
      registers,
    });
    const orders = new Counter({
      name: "tradecron_orders_total",
      help: "Orders submitted or updated at the broker, by status",
      labelNames: ["status"] as const,
      registers,
    });
    const riskRejections = new Counter({
      name: "tradecron_risk_rejections_total",
      help: "Orders refused by the risk guard or the broker, by rule",
      labelNames: ["rule"] as const,
      registers,
    });
    new Gauge({
      name: "tradecron_approvals_pending",
      help: "Approvals waiting for a decision",
      registers,
      async collect() {
        try {
          this.set(await scheduler.pendingApprovalCount());
        } catch {
          // storage down: keep the last value; /health says why
        }
      },
    });
    new Gauge({
      name: "tradecron_broker_connected",
      help: "1 when the broker is connected, 0 when not; absent without a broker",
      labelNames: ["broker"] as const,
      registers,
      collect() {
        this.reset();
        const broker = scheduler.broker;
        if (broker)
          this.set(
            { broker: bounded(broker.name, new Set(["paper", "alpaca", "ibkr"])) },
            broker.isConnected() ? 1 : 0,
          );
      },
    });
    new Gauge({
      name: "tradecron_paused_all",
      help: "1 while the emergency pause-all is in force",
      registers,
      collect() {
        this.set(scheduler.pausedAll ? 1 : 0);
      },
    });
    new Gauge({
      name: "tradecron_scheduler_state",
      help: "1 for the scheduler's current lifecycle state",
      labelNames: ["state"] as const,
      registers,
      collect() {
        for (const s of STATES) this.set({ state: s }, scheduler.state === s ? 1 : 0);
      },
    });
    this.httpRequests = new Counter({
      name: "tradecron_http_requests_total",
      help: "API requests, by route, method and status",
      labelNames: ["route", "method", "status"] as const,
      registers,
    });
    this.httpDuration = new Histogram({
      name: "tradecron_http_request_duration_seconds",
      help: "API request duration, by route",
      labelNames: ["route"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.knownRoutes = new Set([...options.routeIds, "unmatched"]);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });

    const on = <K extends keyof SchedulerEvents>(name: K, fn: (p: SchedulerEvents[K]) => void) => {
      scheduler.on(name, fn as never);
      return () => scheduler.off(name, fn as never);
    };
    const offs = [
      on("fire:claimed", (p) => fires.inc({ kind: bounded(p.execution.kind, KINDS) })),
      on("run:started", (p) => {
        if (p.attempt !== 1 || (p.execution.kind !== "scheduled" && p.execution.kind !== "catchup")) return;
        delay.observe(Math.max(0, scheduler.clock.now() - p.execution.scheduledAt) / 1000);
      }),
      on("run:succeeded", () => runs.inc({ outcome: OUTCOMES[0] })),
      on("run:failed", () => runs.inc({ outcome: OUTCOMES[1] })),
      on("run:timed-out", () => runs.inc({ outcome: OUTCOMES[2] })),
      on("run:cancelled", () => runs.inc({ outcome: OUTCOMES[3] })),
      on("run:skipped", (p) => {
        runs.inc({ outcome: OUTCOMES[4] });
        skipped.inc({ reason: bounded(String(p.reason), SKIP_REASONS) });
      }),
      on("fire:missed", (p) =>
        missed.inc({ policy: bounded(p.policy, new Set(["skip", "run_once", "run_all"])) }, p.count),
      ),
      on("run:retrying", () => retries.inc()),
      on("order:submitted", (p) => orders.inc({ status: bounded(p.order.status, ORDER_STATUSES) })),
      on("order:updated", (p) => orders.inc({ status: bounded(p.order.status, ORDER_STATUSES) })),
      on("order:rejected", (p) => {
        orders.inc({ status: "rejected" });
        riskRejections.inc({ rule: this.ruleLabel(p.rule) });
      }),
    ];
    // Zero series for the bounded label sets, so a rate() query has something from the first scrape.
    for (const outcome of OUTCOMES) runs.inc({ outcome }, 0);
    for (const kind of KINDS) fires.inc({ kind }, 0);
    this.detach = () => {
      for (const off of offs) off();
    };
  }

  private readonly knownRoutes: ReadonlySet<string>;

  /** Records one API request. */
  observeRequest(route: RouteLabel, method: string, status: number, seconds: number): void {
    const r = this.knownRoutes.has(route) ? route : "unmatched";
    const m = bounded(
      method.toUpperCase(),
      new Set(["GET", "POST", "PATCH", "DELETE", "HEAD", "PUT", "OPTIONS"]),
    );
    this.httpRequests.inc({
      route: r,
      method: m,
      status: String(status >= 100 && status < 600 ? status : 0),
    });
    this.httpDuration.observe({ route: r }, seconds);
  }

  /** Prometheus text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content type of {@link render}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops listening to the scheduler. */
  close(): void {
    this.detach();
  }

  private ruleLabel(rule: string): string {
    if (this.ruleLabels.has(rule)) return rule;
    if (this.ruleLabels.size >= MAX_RULE_LABELS || !/^[A-Za-z0-9_:.-]{1,64}$/.test(rule)) return "other";
    this.ruleLabels.add(rule);
    return rule;
  }
}
