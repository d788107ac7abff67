/**
 * Where order updates come from: the account's trade_updates stream when this instance owns it,
 * REST polling when it does not (or while the stream is down), and a reconciliation by REST
 * every time the stream comes back, because Alpaca does not replay what a dropped stream missed.
 *
 * Alpaca allows one trade_updates stream per account. With several instances on one account:
 * - `updates: "stream"` on every instance works without further set-up: the first to connect
 *   holds the stream, the others are refused, poll instead, and keep trying to take the stream
 *   over with backoff, so one of them holds it soon after the holder goes away;
 * - `updates: { isOwner }` decides explicitly (a leader lock, a flag): owners open the stream,
 *   the others poll; the rule is asked again every `checkEveryMs`;
 * - `updates: "poll"` never opens the stream.
 *
 * Reconciliation reads the open orders (one request per 500), the orders closed since the last
 * time the feed was in sync (one request: what was placed and finished in a gap, by any process),
 * and each watched order that left the open list since (one request each), and pushes what
 * changed, through the same staleness rules as stream events.
 */

import type { BrokerOrder, Clock, Logger, TimerHandle } from "@tradecron/core";
import { type AlpacaRest, isAlpacaId } from "./alpaca-rest.js";
import type { Credentials } from "./credentials.js";
import { epochMs, isMappable } from "./mapping.js";
import type { ResolvedOptions } from "./options.js";
import type { OrderTracker } from "./order-tracker.js";
import { type StreamState, TradeStream } from "./trade-stream.js";
import { type AlpacaOrder, alpacaOrderSchema, tradeUpdateSchema } from "./wire.js";

/** How far before the last sync closed orders are read again (clock skew against Alpaca's). */
const SYNC_MARGIN_MS = 10_000;
/** Orders re-read one by one in a single reconciliation at most; the rest wait for the next. */
const MAX_SINGLE_READS = 100;

/** What the feed reports in `health().updates`. */
export interface UpdatesHealth {
  /** `stream`, `poll`, `none`, or `owner-rule` (an `isOwner` function decides). */
  mode: "stream" | "poll" | "none" | "owner-rule";
  /** The stream's state, or `off` when this instance does not run one. */
  stream: StreamState | "off";
  /** What the ownership rule last said (null without a rule). */
  owner: boolean | null;
  /** True while order states come from polling. */
  polling: boolean;
  lastReconcileAt: number | null;
  reconciles: number;
  reconnects: number;
  duplicatesDropped: number;
  staleDropped: number;
}

/** What the feed needs from the broker. */
export interface OrderFeedDeps {
  options: ResolvedOptions;
  credentials: Credentials;
  rest: AlpacaRest;
  tracker: OrderTracker;
  clock: Clock;
  logger: Logger;
  /** Maps an Alpaca order, offers it to the tracker and pushes it when it is news. */
  push: (order: AlpacaOrder, event: string | null, at: number) => BrokerOrder | null;
  onHealthChange: () => void;
  reportError: (error: unknown, context: string) => void;
}

/** Stream, polling and reconciliation for one broker. */
export class OrderFeed {
  private stream: TradeStream | null = null;
  private running = false;
  private pollTimer: TimerHandle | null = null;
  private ownerTimer: TimerHandle | null = null;
  private owner: boolean | null = null;
  private reconciling: Promise<void> | null = null;
  private again = false;
  private lastReconcileAt: number | null = null;
  private reconciles = 0;
  private settleWaiters: (() => void)[] = [];
  /** Until when order states are known complete (null: never synced; only open orders are read then). */
  private syncedAt: number | null = null;
  private wasListening = false;

  constructor(private readonly deps: OrderFeedDeps) {}

  private get mode(): UpdatesHealth["mode"] {
    const u = this.deps.options.updates;
    return typeof u === "string" ? u : "owner-rule";
  }

  /** Starts the feed; resolves once the stream has a first outcome (or the connect timeout passed). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const mode = this.mode;
    if (mode === "none") return;
    if (mode !== "poll") this.stream = this.makeStream();
    if (mode === "stream") this.stream?.start();
    if (mode === "owner-rule") await this.checkOwnership();
    // The stream's first `listening` reconciles; polling starts at once only when it is the source.
    this.armPoll(mode === "poll" ? 0 : this.deps.options.pollIntervalMs);
    if (this.stream && this.stream.state === "connecting") await this.settled();
    // The first reconciliation (the open orders) is part of connecting: it is done when connect() is.
    if (this.reconciling) await this.reconciling.catch(() => {});
  }

  /** Stops the stream and every timer. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const t of [this.pollTimer, this.ownerTimer]) if (t !== null) this.deps.clock.clearTimeout(t);
    this.pollTimer = null;
    this.ownerTimer = null;
    this.stream?.stop();
    this.stream = null;
    this.owner = null;
    this.syncedAt = null;
    this.wasListening = false;
    this.wakeSettled();
  }

  health(): UpdatesHealth {
    const stats = this.deps.tracker.stats;
    return {
      mode: this.mode,
      stream: this.stream && this.stream.state !== "stopped" ? this.stream.state : "off",
      owner: this.owner,
      polling: this.running && this.needsPolling(),
      lastReconcileAt: this.lastReconcileAt,
      reconciles: this.reconciles,
      reconnects: this.stream?.reconnects ?? 0,
      duplicatesDropped: stats.duplicatesDropped,
      staleDropped: stats.staleDropped,
    };
  }

  /** Reads the open and watched orders and pushes what changed (coalesces concurrent calls). */
  reconcile(): Promise<void> {
    if (this.reconciling) {
      this.again = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileOnce();
        } while (this.again && this.running);
      } finally {
        this.reconciling = null;
      }
    })();
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    const { rest, tracker, clock } = this.deps;
    const startedAt = clock.now();
    const since = this.syncedAt;
    const open = await rest.openOrders();
    // Placed and finished while nobody listened (by this or another process): not open, not watched.
    const closed = since === null ? [] : await rest.closedSince(since - SYNC_MARGIN_MS);
    const now = clock.now();
    const seen = new Set<string>();
    const visit = (order: AlpacaOrder) => {
      seen.add(order.id);
      this.deps.push(order, null, now);
      for (const leg of order.legs ?? []) if (isMappable(leg)) visit(leg);
    };
    for (const order of [...open, ...closed]) visit(order);
    const gone = tracker.open().filter((id) => !seen.has(id) && isAlpacaId(id));
    for (const id of gone.slice(0, MAX_SINGLE_READS)) {
      const order = await rest.order(id);
      if (order && isMappable(order)) visit(order);
      else tracker.forget(id);
    }
    if (gone.length > MAX_SINGLE_READS) this.again = true;
    if (this.stream?.state !== "listening") this.syncedAt = startedAt;
    this.lastReconcileAt = clock.now();
    this.reconciles++;
  }

  private makeStream(): TradeStream {
    const { options, credentials, clock, logger } = this.deps;
    return new TradeStream({
      url: options.streamUrl,
      credentials,
      clock,
      logger,
      reconnect: options.reconnect,
      heartbeatMs: options.heartbeatMs,
      onEvent: (data) => this.onEvent(data),
      onState: (state) => this.onStreamState(state),
    });
  }

  private onEvent(data: unknown): void {
    const update = tradeUpdateSchema.safeParse(data);
    if (!update.success) return;
    const { tracker, clock } = this.deps;
    if (!tracker.firstSighting(update.data.execution_id)) return;
    const order = alpacaOrderSchema.safeParse(update.data.order);
    if (!order.success || !isMappable(order.data)) return;
    try {
      this.deps.push(order.data, update.data.event, epochMs(update.data.timestamp, clock.now()));
    } catch (error) {
      this.deps.reportError(error, `trade update ${update.data.event}`);
    }
  }

  private onStreamState(state: StreamState): void {
    this.deps.logger.info({ state }, "alpaca trade_updates");
    // Events were flowing until now: the next reconciliation reads closed orders from here on.
    if (this.wasListening && state !== "listening") this.syncedAt = this.deps.clock.now();
    this.wasListening = state === "listening";
    if (state !== "connecting") this.wakeSettled();
    if (state === "listening") {
      // Alpaca does not replay: whatever happened while the stream was away is read by REST.
      this.reconcile().catch((error: unknown) =>
        this.deps.reportError(error, "reconciling after the stream connected"),
      );
    }
    this.deps.onHealthChange();
  }

  private needsPolling(): boolean {
    const mode = this.mode;
    if (mode === "none") return false;
    if (mode === "poll") return true;
    return this.stream?.state !== "listening";
  }

  private armPoll(delay: number): void {
    if (!this.running) return;
    this.pollTimer = this.deps.clock.setTimeout(() => {
      this.pollTimer = null;
      if (!this.running) return;
      const work = this.needsPolling() ? this.reconcile() : Promise.resolve();
      work
        .catch((error: unknown) => this.deps.reportError(error, "polling orders"))
        .finally(() => this.armPoll(this.deps.options.pollIntervalMs));
    }, delay);
  }

  private async checkOwnership(): Promise<void> {
    const rule = this.deps.options.updates;
    if (typeof rule === "string" || !this.running) return;
    let owner = false;
    try {
      owner = (await rule.isOwner()) === true;
    } catch (error) {
      this.deps.reportError(error, "asking the stream ownership rule");
    }
    if (!this.running) return;
    if (owner !== this.owner) {
      this.owner = owner;
      this.deps.logger.info({ owner }, "alpaca trade_updates ownership");
      if (owner) this.stream?.start();
      else this.stream?.stop();
      this.deps.onHealthChange();
    }
    this.ownerTimer = this.deps.clock.setTimeout(() => {
      this.ownerTimer = null;
      void this.checkOwnership();
    }, rule.checkEveryMs);
  }

  /** Resolves when the stream leaves `connecting`, or after the connect timeout. */
  private settled(): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(() => done(), this.deps.options.streamConnectTimeoutMs);
      const done = () => {
        this.deps.clock.clearTimeout(timer);
        resolve();
      };
      this.settleWaiters.push(done);
    });
  }

  private wakeSettled(): void {
    for (const wake of this.settleWaiters.splice(0)) wake();
  }
}
