/**
 * Each schedule's last run (start, end, status, last success) and last skip, as seed 004's status
 * file reports them. Rebuilt from storage at start, so a deploy does not reset them to "never
 * succeeded", then kept current from the scheduler's events. Skips are kept apart: an exit check
 * skipped every 30 s outside market hours must not hide the failure before it.
 */

import type { ExecutionRecord, ExecutionStatus, Scheduler } from "@tradecron/core";

/** One schedule's last run and last skip (epoch ms). */
export interface LastRun {
  lastStartAt: number | null;
  lastEndAt: number | null;
  /** Status of the last run that started (`running` while it runs). */
  status: ExecutionStatus | "retrying" | null;
  lastSuccessAt: number | null;
  lastSkip: { at: number; reason: string } | null;
}

const RAN: ExecutionStatus[] = ["running", "succeeded", "failed", "timed_out", "cancelled"];

const empty = (): LastRun => ({
  lastStartAt: null,
  lastEndAt: null,
  status: null,
  lastSuccessAt: null,
  lastSkip: null,
});

/** Last runs by schedule id. */
export class LastRuns {
  private readonly runs = new Map<string, LastRun>();

  /** Reads every schedule's last run, last success and last skip from storage (three small queries each, in parallel). */
  static async fromStorage(scheduler: Scheduler, ids: readonly string[]): Promise<LastRuns> {
    const out = new LastRuns();
    await Promise.all(
      ids.map(async (scheduleId) => {
        const [ran, ok, skipped] = await Promise.all([
          scheduler.listExecutions({ scheduleId, status: RAN, limit: 1 }),
          scheduler.listExecutions({ scheduleId, status: "succeeded", limit: 1 }),
          scheduler.listExecutions({ scheduleId, status: "skipped", limit: 1 }),
        ]);
        const last = ran.items[0];
        const skip = skipped.items[0];
        out.runs.set(scheduleId, {
          lastStartAt: last?.startedAt ?? null,
          lastEndAt: last?.endedAt ?? null,
          status: last?.status ?? null,
          lastSuccessAt: ok.items[0]?.endedAt ?? null,
          lastSkip: skip ? { at: skip.endedAt ?? skip.scheduledAt, reason: skip.reason ?? "skipped" } : null,
        });
      }),
    );
    return out;
  }

  /** The last run of a schedule (all null when it never ran). */
  get(id: string): LastRun {
    return this.runs.get(id) ?? empty();
  }

  private update(e: ExecutionRecord, patch: (r: LastRun) => void): void {
    const r = this.runs.get(e.scheduleId) ?? empty();
    patch(r);
    this.runs.set(e.scheduleId, r);
  }

  /** Follows the scheduler's run events; returns the function that stops following. */
  follow(scheduler: Scheduler, onChange: () => void = () => {}): () => void {
    const ended = (e: ExecutionRecord) =>
      this.update(e, (r) => {
        r.lastEndAt = e.endedAt;
        r.status = e.status;
        if (e.status === "succeeded") r.lastSuccessAt = e.endedAt;
      });
    const listeners = {
      "run:started": ({ execution: e }: { execution: ExecutionRecord }) =>
        this.update(e, (r) => {
          r.lastStartAt = e.startedAt;
          r.status = "running";
        }),
      "run:retrying": ({ execution: e }: { execution: ExecutionRecord }) =>
        this.update(e, (r) => {
          r.status = "retrying";
        }),
      "run:succeeded": ({ execution: e }: { execution: ExecutionRecord }) => ended(e),
      "run:failed": ({ execution: e }: { execution: ExecutionRecord }) => ended(e),
      "run:timed-out": ({ execution: e }: { execution: ExecutionRecord }) => ended(e),
      "run:cancelled": ({ execution: e }: { execution: ExecutionRecord }) => ended(e),
      "run:skipped": ({ execution: e, reason }: { execution: ExecutionRecord; reason: string }) =>
        this.update(e, (r) => {
          r.lastSkip = { at: e.endedAt ?? e.scheduledAt, reason };
        }),
    } as const;
    const offs: (() => void)[] = [];
    for (const [name, fn] of Object.entries(listeners)) {
      const listener = (payload: never) => {
        (fn as (p: never) => void)(payload);
        onChange();
      };
      scheduler.on(name as "run:started", listener as never);
      offs.push(() => scheduler.off(name as "run:started", listener as never));
    }
    return () => {
      for (const off of offs) off();
    };
  }
}
