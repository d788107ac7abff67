/**
 * Change notification for SqliteStorage. SQLite cannot push across processes, so triggers append
 * every change of a schedule, the control row or an approval to a `changes` log (see
 * migrations.ts) and the watcher polls it: one indexed range read (`seq > last`) per interval,
 * which sees writes of every connection and process on the file. With a single writer at a time,
 * seq order is commit order, so nothing is skipped.
 */

import type { StorageChange } from "@tradecron/core";

/** A row of the change log. */
export interface ChangeRow {
  seq: number;
  type: string;
  subject_id: string | null;
}

/** What the poller reads through. */
export interface ChangeSource {
  /** Oldest and newest seq in the log (0 when empty). */
  bounds(): { lo: number; hi: number };
  /** Log rows after `seq`, oldest first (a bounded page). */
  since(seq: number): ChangeRow[];
  /** Every schedule id (used to resync after falling off the log). */
  scheduleIds(): string[];
}

/** Polls the change log and hands each change to `onChange`. */
export class SqliteChangePoller {
  private last = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly source: ChangeSource,
    private readonly intervalMs: number,
    private readonly onChange: (change: StorageChange) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts polling from the current end of the log (idempotent). */
  start(): void {
    if (this.timer) return;
    try {
      this.last = this.source.bounds().hi;
    } catch (error) {
      this.onError(error);
    }
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Stops polling (idempotent). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads and delivers everything logged since the last poll. */
  poll(): void {
    try {
      const rows = this.source.since(this.last);
      if (rows.length === 0) return;
      const first = rows[0] as ChangeRow;
      if (first.seq > this.last + 1 && this.last > 0) {
        // Entries between were pruned before we read them: report everything that may have changed.
        this.onChange({ type: "control" });
        for (const id of this.source.scheduleIds()) this.onChange({ type: "schedule", id });
      }
      for (const row of rows) {
        this.last = row.seq;
        const change = toChange(row);
        if (change) this.onChange(change);
      }
    } catch (error) {
      this.onError(error);
    }
  }
}

function toChange(row: ChangeRow): StorageChange | null {
  if (row.type === "control") return { type: "control" };
  if ((row.type === "schedule" || row.type === "approval") && row.subject_id !== null) {
    return { type: row.type, id: row.subject_id };
  }
  return null;
}
