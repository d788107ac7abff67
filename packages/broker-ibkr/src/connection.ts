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
 *   data lost, so the book is reconciled before we report connected again.
 * - A heartbeat (reqCurrentTime) every `heartbeatMs` ends a half-open session whose socket still
 *   looks connected: the request times out, and a timed-out request ends its session.
 */

import { type BackoffPolicy, backoffDelay, type Clock, type TimerHandle, toError } from "@tradecron/core";
import { CONNECTIVITY, IbkrConfigError, unavailable } from "./ib-errors.js";
import type { Pacer } from "./pacer.js";
import { Session, type SessionHandlers, type SessionSettings } from "./session.js";

/** What the supervisor needs from the broker. */
export interface ConnectionHooks {
  /** The session's order traffic (openOrder, orderStatus, ...) goes here. */
  handlers: Omit<SessionHandlers, "closed" | "notice">;
  /** Checks the managed accounts (throws IbkrConfigError), then reconciles; the session counts only after it. */
  synchronize(session: Session): Promise<void>;
  /** The connected state changed. */
  changed(connected: boolean): void;
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
  /** TWS's own link to IB (false between 1100/2110 and 1101/1102). */
  private linkUp = true;
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
    return this.session !== null && !this.session.closed && this.linkUp;
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
    const reason = () =>
      this.session && !this.linkUp
        ? "TWS has lost its connection to IB (1100/2110); waiting for it to be restored"
        : `reconnecting to TWS at ${this.settings.host}:${this.settings.port}${this.lastError ? ` (last error: ${this.lastError.message})` : ""}`;
    if (this.settings.reconnectWaitMs === 0) return Promise.reject(unavailable(what, reason()));
    return new Promise<Session>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: null };
      waiter.timer = this.clock.setTimeout(() => {
        this.waiters.delete(waiter);
        reject(unavailable(what, reason()));
      }, this.settings.reconnectWaitMs);
      this.waiters.add(waiter);
    });
  }

  // ---- attempts --------------------------------------------------------------------------------

  private start(): Promise<Session> {
    const session = new Session(this.settings, this.clock, this.pacer, {
      ...this.hooks.handlers,
      closed: (reason) => this.onClosed(session, reason),
      notice: (code, message) => this.onNotice(session, code, message),
    });
    const done = (async () => {
      await session.open();
      await this.hooks.synchronize(session);
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
        this.linkUp = true;
        this.failures = 0;
        this.lastError = null;
        this.startHeartbeat(s);
        this.report();
        this.resolveWaiters(s);
      },
      (error: unknown) => {
        this.attempt = null;
        const e = toError(error);
        this.lastError = e;
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
    this.report();
    if (this.wanted) this.scheduleRetry();
  }

  private onNotice(session: Session, code: number, message: string): void {
    if (code === CONNECTIVITY.LOST || code === CONNECTIVITY.BROKEN) {
      this.linkUp = false;
      this.report();
      return;
    }
    if (code === CONNECTIVITY.RESTORED) {
      this.linkUp = true;
      this.report();
      if (this.session) this.resolveWaiters(this.session);
      return;
    }
    if (code === CONNECTIVITY.RESTORED_DATA_LOST) {
      // Orders may have filled or been cancelled while the link was down: reconcile first.
      if (this.session !== session) return;
      this.linkUp = false;
      this.report();
      this.hooks.synchronize(session).then(
        () => {
          if (this.session !== session || session.closed) return;
          this.linkUp = true;
          this.report();
          this.resolveWaiters(session);
        },
        (error: unknown) => {
          this.hooks.problem(toError(error), `reconciling after IB ${code}: ${message}`);
          void session.close(`reconcile after 1101 failed: ${toError(error).message}`);
        },
      );
    }
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
    this.hooks.changed(connected);
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
