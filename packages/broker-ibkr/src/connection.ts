/**
 * The connection supervisor: keeps one live, synchronized session to TWS for as long as the
 * caller wants to be connected, across drops and the nightly restart.
 *
 * - A session counts as connected only after its handshake (nextValidId, managedAccounts), the
 *   account check, and a full reconcile of the order book (`synchronize`), so the first new
 *   order after a reconnect is placed on a book that knows everything IB knows.
 * - A lost session is retried forever with exponential backoff and jitter on the injected clock;
 *   only a configuration error (wrong account) stops the retries.
 * - Connectivity notices on request id -1: 1100 and 2110 mean TWS is up but cut off from IB (we
 *   report disconnected and refuse calls); 1102 means back with data kept; 1101 means back with
 *   data lost, so the book is reconciled before we report connected again. The link's state
 *   belongs to the session that reported it: a session that opens while TWS is cut off (TWS sends
 *   1100 right after the handshake) is not connected until TWS says the link is back.
 * - Farm notices (2103-2108, 2157/2158) are informational: kept for the connection detail, never
 *   a reason to refuse an order.
 * - A heartbeat (reqCurrentTime) every `heartbeatMs` ends a half-open session whose socket still
 *   looks connected: the request times out, and a timed-out request ends its session.
 */

import { type BackoffPolicy, backoffDelay, type Clock, type TimerHandle, toError } from "@tradecron/core";
import {
  FarmBoard,
  type FarmStatus,
  type IbkrConnectionDetail,
  type LinkState,
} from "./connection-detail.js";
import { CONNECTIVITY, IbkrConfigError, unavailable } from "./ib-errors.js";
import type { Pacer } from "./pacer.js";
import { Session, type SessionHandlers, type SessionSettings } from "./session.js";

/** What the supervisor needs from the broker. */
export interface ConnectionHooks {
  /** The session's order traffic (openOrder, orderStatus, ...) goes here. */
  handlers: Omit<SessionHandlers, "closed" | "notice">;
  /** Checks the managed accounts (throws IbkrConfigError), then reconciles; the session counts only after it. */
  synchronize(session: Session): Promise<void>;
  /** The connected state changed; `detail` says why and how each channel stands. */
  changed(connected: boolean, detail: IbkrConnectionDetail): void;
  /** A data farm notice (informational). */
  farm(status: FarmStatus): void;
  /** A background failure (a reconnect that failed, a heartbeat that timed out). */
  problem(error: Error, context: string): void;
  /** A session ended (an attempt's or the live one): what waited on it must fail. */
  sessionClosed(session: Session, reason: string): void;
}

/** Settings of the supervisor. */
export interface ConnectionSettings extends SessionSettings {
  backoff: BackoffPolicy;
  heartbeatMs: number;
  reconnectWaitMs: number;
}

interface Waiter {
  resolve: (s: Session) => void;
  reject: (e: Error) => void;
  timer: TimerHandle | null;
}

/** Keeps a session to TWS alive. */
export class Connection {
  private wanted = false;
  private session: Session | null = null;
  private attempt: { session: Session; done: Promise<Session> } | null = null;
  private retryTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private failures = 0;
  /**
   * TWS's own link to IB, for the live session or the attempt (a new attempt starts linked; TWS
   * sends 1100 right after the handshake when it is not).
   */
  private link: LinkState = "linked";
  /** A 1101 came while the attempt synchronized: part of what it read may predate it. */
  private resyncRequested = false;
  /** Bumped by every 1101 and 1100, so an older reconcile cannot mark the link restored. */
  private linkGeneration = 0;
  /** What last happened, for the connection detail. */
  private event: { code?: number; reason: string; dataLost?: boolean } = { reason: "not connected yet" };
  private readonly farms = new FarmBoard();
  private reported = false;
  private readonly waiters = new Set<Waiter>();
  private lastError: Error | null = null;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly pacer: Pacer,
    private readonly hooks: ConnectionHooks,
  ) {}

  /** Connected: a synchronized session, and TWS linked to IB. */
  isConnected(): boolean {
    return this.live() && this.link === "linked";
  }

  /** The connection as core's BrokerConnectionDetail: the API socket, TWS's link to IB, the farms. */
  detail(): IbkrConnectionDetail {
    const live = this.live();
    const rest = live
      ? { ok: true, state: "connected" }
      : { ok: false, state: !this.wanted ? "disconnected" : this.attempt ? "connecting" : "reconnecting" };
    return {
      reason: this.event.reason,
      ...(this.event.code === undefined ? {} : { code: this.event.code }),
      ...(this.event.dataLost === undefined ? {} : { dataLost: this.event.dataLost }),
      rest,
      stream: live ? { ok: this.link === "linked", state: this.link } : { ok: false, state: "unknown" },
      farms: this.farms.list(),
    };
  }

  /**
   * Throws BrokerUnavailableError unless `session` is still the connected one: a call that found
   * the connection ready, then waited on TWS while the link dropped, must not place an order.
   */
  assertUsable(session: Session, what: string): void {
    if (this.session === session && this.isConnected()) return;
    throw unavailable(what, this.notReadyReason(), this.notReadyDetails());
  }

  private live(): boolean {
    return this.session !== null && !this.session.closed;
  }

  /**
   * Connects and resolves once connected. The first call starts an attempt and waits for it; a
   * failure rejects, and the supervisor keeps retrying in the background until {@link disconnect}
   * (unless the configuration is wrong). A call while it already reconnects in the background
   * keeps to the backoff: it waits up to `reconnectWaitMs` for the connection and then fails as
   * unavailable, so a host that calls connect() periodically (the Scheduler's maintenance does)
   * is never held up long and never hammers a TWS that is restarting.
   */
  async connect(): Promise<void> {
    const reconnecting = this.wanted;
    this.wanted = true;
    if (this.isConnected()) return;
    if (reconnecting) {
      await this.ready("connect");
      return;
    }
    if (this.retryTimer !== null) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    await (this.attempt?.done ?? this.start());
    // The session is up, but TWS may be cut off from IB: connected means orders can be placed.
    if (!this.isConnected()) await this.ready("connect");
  }

  /** Disconnects and stops reconnecting; resolves once the socket is closed. */
  async disconnect(): Promise<void> {
    this.wanted = false;
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopHeartbeat();
    const sessions = [this.session, this.attempt?.session].filter(
      (s): s is Session => s !== null && s !== undefined,
    );
    this.session = null;
    this.event = { reason: "disconnected by the caller" };
    this.rejectWaiters(unavailable("connection", "disconnected"));
    await Promise.all(sessions.map((s) => s.close("disconnected by the caller")));
    this.report();
  }

  /**
   * The connected session for a call. While reconnecting, waits up to `reconnectWaitMs`, then
   * fails with BrokerUnavailableError (retryable); when not wanted, fails at once.
   */
  ready(what: string): Promise<Session> {
    if (this.isConnected()) return Promise.resolve(this.session as Session);
    if (!this.wanted) return Promise.reject(unavailable(what, "not connected to TWS (call connect())"));
    const fail = () => unavailable(what, this.notReadyReason(), this.notReadyDetails());
    if (this.settings.reconnectWaitMs === 0) return Promise.reject(fail());
    return new Promise<Session>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: null };
      waiter.timer = this.clock.setTimeout(() => {
        this.waiters.delete(waiter);
        reject(fail());
      }, this.settings.reconnectWaitMs);
      this.waiters.add(waiter);
    });
  }

  private notReadyReason(): string {
    if (this.live()) {
      if (this.link === "resyncing")
        return "TWS's connection to IB was restored with data lost (1101); re-reading orders and executions first";
      if (this.link !== "linked")
        return `TWS has lost its connection to IB (${this.event.code ?? this.link}); waiting for it to be restored`;
    }
    if (!this.wanted) return "not connected to TWS (call connect())";
    return `reconnecting to TWS at ${this.settings.host}:${this.settings.port}${this.lastError ? ` (last error: ${this.lastError.message})` : ""}`;
  }

  private notReadyDetails(): Record<string, unknown> {
    const d = this.detail();
    return {
      connection: { rest: d.rest, stream: d.stream },
      ...(d.code === undefined ? {} : { ibCode: d.code }),
    };
  }

  // ---- attempts --------------------------------------------------------------------------------

  private start(): Promise<Session> {
    const session = new Session(this.settings, this.clock, this.pacer, {
      ...this.hooks.handlers,
      closed: (reason) => this.onClosed(session, reason),
      notice: (code, message) => this.onNotice(session, code, message),
    });
    this.link = "linked";
    this.resyncRequested = false;
    this.farms.clear();
    const done = (async () => {
      await session.open();
      do {
        this.resyncRequested = false;
        await this.hooks.synchronize(session);
      } while (this.resyncRequested && !session.closed);
      if (session.closed) throw unavailable("connection", "the session ended while synchronizing");
      return session;
    })();
    this.attempt = { session, done };
    done.then(
      (s) => {
        this.attempt = null;
        if (!this.wanted) {
          void s.close("disconnected by the caller");
          return;
        }
        this.session = s;
        this.failures = 0;
        this.lastError = null;
        if (this.link === "linked") {
          this.event = {
            reason: `connected to TWS at ${this.settings.host}:${this.settings.port} (client id ${this.settings.clientId})`,
          };
        }
        this.startHeartbeat(s);
        this.report();
        this.resolveWaiters(s);
      },
      (error: unknown) => {
        this.attempt = null;
        const e = toError(error);
        this.lastError = e;
        this.event = { reason: `cannot connect to TWS: ${e.message}` };
        void session.close(e.message);
        if (e instanceof IbkrConfigError) {
          // Retrying cannot fix the configuration.
          this.wanted = false;
          this.rejectWaiters(e);
          return;
        }
        if (this.wanted) this.scheduleRetry();
      },
    );
    return done;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.attempt !== null || !this.wanted) return;
    const delay = backoffDelay(this.settings.backoff, this.failures + 2, this.random);
    this.failures++;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      if (!this.wanted) return;
      this.start().catch((error: unknown) =>
        this.hooks.problem(toError(error), `reconnecting to TWS (attempt ${this.failures})`),
      );
    }, delay);
  }

  private onClosed(session: Session, reason: string): void {
    this.hooks.sessionClosed(session, reason);
    if (this.session !== session) return; // an attempt's session: its promise reports the failure
    this.session = null;
    this.stopHeartbeat();
    this.lastError = new Error(reason);
    this.event = {
      reason: `the connection to TWS was lost (${reason})${this.wanted ? "; reconnecting" : ""}`,
    };
    this.report();
    if (this.wanted) this.scheduleRetry();
  }

  private onNotice(session: Session, code: number, message: string): void {
    const attempt = this.attempt?.session === session;
    if (!attempt && this.session !== session) return; // a session that has ended
    const farm = this.farms.apply(code, message, this.clock.now());
    if (farm) {
      this.hooks.farm(farm);
      return;
    }
    const reason = `TWS ${code}: ${message}`;
    if (code === CONNECTIVITY.LOST || code === CONNECTIVITY.BROKEN) {
      this.linkGeneration++;
      this.link = code === CONNECTIVITY.LOST ? "lost" : "broken";
      this.event = { code, reason };
      this.report();
      return;
    }
    if (code === CONNECTIVITY.RESTORED) {
      // 1102 does not end a reconcile after 1101: that one still decides.
      if (this.link === "resyncing") return;
      this.link = "linked";
      this.event = { code, reason, dataLost: false };
      this.report();
      if (this.session) this.resolveWaiters(this.session);
      return;
    }
    if (code !== CONNECTIVITY.RESTORED_DATA_LOST) return;
    // Orders may have filled or been cancelled while the link was down, and their messages are
    // gone: read open orders, completed orders and executions again before we count as connected.
    const generation = ++this.linkGeneration;
    if (attempt) {
      // The attempt synchronizes anyway; it reads everything once more if this came mid-way.
      this.link = "linked";
      this.resyncRequested = true;
      this.event = { code, reason: `${reason}; orders and executions re-read`, dataLost: true };
      return;
    }
    this.link = "resyncing";
    this.event = { code, reason, dataLost: true };
    this.report();
    this.hooks.synchronize(session).then(
      () => {
        if (this.session !== session || session.closed) return;
        if (generation !== this.linkGeneration || this.link !== "resyncing") return;
        this.link = "linked";
        this.event = { code, reason: `${reason}; orders and executions re-read`, dataLost: true };
        this.report();
        this.resolveWaiters(session);
      },
      (error: unknown) => {
        this.hooks.problem(toError(error), `reconciling after IB ${code}: ${message}`);
        void session.close(`reconcile after 1101 failed: ${toError(error).message}`);
      },
    );
  }

  // ---- heartbeat, listeners --------------------------------------------------------------------

  private startHeartbeat(session: Session): void {
    this.stopHeartbeat();
    if (this.settings.heartbeatMs <= 0) return;
    const beat = () => {
      this.heartbeatTimer = this.clock.setTimeout(() => {
        if (this.session !== session) return;
        // A timeout ends the session (see Session.collect); the next beat is armed either way.
        session.currentTime().catch(() => {});
        beat();
      }, this.settings.heartbeatMs);
    };
    beat();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private report(): void {
    const connected = this.isConnected();
    if (connected === this.reported) return;
    this.reported = connected;
    this.hooks.changed(connected, this.detail());
  }

  private resolveWaiters(session: Session): void {
    if (!this.isConnected()) return;
    for (const w of [...this.waiters]) {
      if (w.timer !== null) this.clock.clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve(session);
    }
  }

  private rejectWaiters(error: Error): void {
    for (const w of [...this.waiters]) {
      if (w.timer !== null) this.clock.clearTimeout(w.timer);
      this.waiters.delete(w);
      w.reject(error);
    }
  }
}
