/**
 * Change notification for PostgresStorage: one dedicated connection LISTENs on the storage's
 * channel (triggers NOTIFY on every change of a schedule, the control row or an approval).
 *
 * NOTIFY is fire-and-forget: a listener that is disconnected misses what happens meanwhile. So the
 * listener keeps a snapshot (schedule revisions, control revision, pending approval ids); while it
 * is disconnected it polls that snapshot (the fallback keeps changes flowing within a poll
 * interval), and on reconnecting it compares the snapshot and reports every difference, including
 * deletions. Reconnects back off from 100 ms to 5 s.
 */

import type { StorageChange } from "@tradecron/core";
import type pg from "pg";

/** What the listener compares after missing notifications. */
export interface ChangeSnapshot {
  control: number;
  schedules: Map<string, number>;
  pendingApprovals: Set<string>;
}

/** Options of {@link PgChangeListener}. */
export interface PgChangeListenerOptions {
  /** A new, unconnected client for the dedicated LISTEN connection. */
  createClient(): pg.Client;
  /** Channel to LISTEN on (quoted as an identifier). */
  channel: string;
  /** Reads the current snapshot (through the pool, not the LISTEN client). */
  snapshot(): Promise<ChangeSnapshot>;
  /** Receives every change. */
  onChange(change: StorageChange): void;
  /** Receives connection and polling failures (the listener keeps trying). */
  onError(error: Error): void;
  /** Polling interval while the LISTEN connection is down. */
  pollIntervalMs: number;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/** Parses a notification payload written by the notify trigger; null for anything else. */
export function parsePayload(payload: string | undefined): StorageChange | null {
  if (!payload) return null;
  try {
    const value = JSON.parse(payload) as { type?: unknown; id?: unknown; revision?: unknown };
    if (value.type === "control") return { type: "control" };
    if (value.type === "schedule" && typeof value.id === "string") {
      // The revision after the write (schema version 6); a payload without one is still a change.
      return Number.isSafeInteger(value.revision)
        ? { type: "schedule", id: value.id, revision: value.revision as number }
        : { type: "schedule", id: value.id };
    }
    if (value.type === "approval" && typeof value.id === "string") return { type: "approval", id: value.id };
  } catch {
    // not ours: ignore
  }
  return null;
}

/** The changes between two snapshots. */
export function diffSnapshots(before: ChangeSnapshot, after: ChangeSnapshot): StorageChange[] {
  const changes: StorageChange[] = [];
  if (before.control !== after.control) changes.push({ type: "control" });
  for (const [id, revision] of after.schedules) {
    // The snapshot knows the revision, so a watcher holding it skips the read-back.
    if (before.schedules.get(id) !== revision) changes.push({ type: "schedule", id, revision });
  }
  for (const id of before.schedules.keys()) {
    if (!after.schedules.has(id)) changes.push({ type: "schedule", id });
  }
  for (const id of after.pendingApprovals) {
    if (!before.pendingApprovals.has(id)) changes.push({ type: "approval", id });
  }
  for (const id of before.pendingApprovals) {
    if (!after.pendingApprovals.has(id)) changes.push({ type: "approval", id });
  }
  return changes;
}

/** A LISTEN connection with reconnect and a polling fallback. */
export class PgChangeListener {
  private running = false;
  private client: pg.Client | null = null;
  private last: ChangeSnapshot | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private loop: Promise<void> | null = null;
  private connectedFlag = false;
  /** Resolves when stop() is called: every wait of the loop races it, so stop never hangs on I/O. */
  private stopped: Promise<void> = Promise.resolve();
  private signalStop: () => void = () => {};

  constructor(private readonly options: PgChangeListenerOptions) {}

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.connectedFlag;
  }

  /** Starts listening (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = new Promise((resolve) => {
      this.signalStop = resolve;
    });
    this.loop = this.run();
  }

  /** Stops listening and closes the connection (idempotent). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.connectedFlag = false;
    this.stopPolling();
    this.signalStop();
    const client = this.client;
    this.client = null;
    // Not awaited: ending a client that is still connecting may never settle.
    void client?.end().catch(() => {});
    await this.loop;
    this.loop = null;
  }

  /** Waits for `promise`, or for stop(); true when stop() came first. */
  private async interrupted(promise: Promise<unknown>): Promise<boolean> {
    let stoppedFirst = false;
    await Promise.race([
      promise.then(
        () => {},
        (error: unknown) => {
          if (!stoppedFirst) throw error;
        },
      ),
      this.stopped.then(() => {
        stoppedFirst = true;
      }),
    ]);
    return stoppedFirst || !this.running;
  }

  private async run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (this.running) {
      const client = this.options.createClient();
      this.client = client;
      // Resolves when the connection is lost.
      const lost = new Promise<void>((resolve) => {
        client.on("error", (error) => {
          if (this.running) this.options.onError(error);
          resolve();
        });
        client.on("end", () => resolve());
      });
      client.on("notification", (msg) => {
        if (msg.channel !== this.options.channel) return;
        const change = parsePayload(msg.payload);
        if (change) this.options.onChange(change);
      });
      try {
        // The first time, take the baseline before connecting: what changes while the connection
        // and LISTEN are being set up then shows in the snapshot diff below instead of being lost.
        if (this.last === null && (await this.interrupted(this.resync()))) break;
        if (await this.interrupted(client.connect())) break;
        if (await this.interrupted(client.query(`LISTEN "${this.options.channel}"`))) break;
        // Everything after LISTEN arrives as a notification; the snapshot covers what happened
        // while we were not listening.
        if (await this.interrupted(this.resync())) break;
        this.connectedFlag = true;
        this.stopPolling();
        backoff = MIN_BACKOFF_MS;
        if (await this.interrupted(lost)) break;
      } catch (error) {
        if (this.running) this.options.onError(error instanceof Error ? error : new Error(String(error)));
      }
      this.connectedFlag = false;
      if (this.client === client) this.client = null;
      void client.end().catch(() => {});
      if (!this.running) break;
      this.startPolling();
      const timer = new Promise<void>((resolve) => setTimeout(resolve, backoff).unref?.());
      if (await this.interrupted(timer)) break;
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    this.connectedFlag = false;
  }

  /** Takes a snapshot and reports what changed since the previous one (nothing the first time). */
  private async resync(): Promise<void> {
    const next = await this.options.snapshot();
    const before = this.last;
    this.last = next;
    if (before) for (const change of diffSnapshots(before, next)) this.options.onChange(change);
  }

  private startPolling(): void {
    if (this.pollTimer !== null || !this.running) return;
    this.pollTimer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      this.resync()
        .catch((error: unknown) =>
          this.options.onError(error instanceof Error ? error : new Error(String(error))),
        )
        .finally(() => {
          this.polling = false;
        });
    }, this.options.pollIntervalMs);
    this.pollTimer.unref?.();
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
