/**
 * The status file of seed 004: a JSON snapshot of the scheduler (state, heartbeat, per-schedule
 * last start/end/status/success, counters) that monitoring can read without talking to the
 * process. Written atomically (temp file, fsync, rename), so a reader never sees half a file.
 */

import { open, rename } from "node:fs/promises";
import type { Scheduler } from "@tradecron/core";

/** Writes `data` to `path` atomically. */
export async function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** A snapshot of the scheduler for the status file and the /status endpoint. */
export async function statusSnapshot(scheduler: Scheduler): Promise<Record<string, unknown>> {
  const status = await scheduler.status();
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    state: status.state,
    instanceId: status.instanceId,
    storage: status.storage,
    pausedAll: status.pausedAll,
    schedulerStarted: iso(status.startedAt),
    lastHeartbeat: iso(status.heartbeatAt),
    uptimeSeconds: Math.round(status.uptimeMs / 1000),
    health: scheduler.health(),
    counters: status.counters,
    approvalsPending: status.approvalsPending,
    jobs: Object.fromEntries(
      status.schedules.map((s) => [
        s.id,
        {
          job: s.job,
          enabled: s.enabled,
          paused: s.paused,
          lastStart: iso(s.lastStartAt),
          lastEnd: iso(s.lastEndAt),
          status: s.lastStatus,
          lastSuccess: iso(s.lastSuccessAt),
          nextFire: iso(s.nextFireAt),
          running: s.running,
        },
      ]),
    ),
  };
}

/** Keeps the status file fresh: on every run outcome and at least every `everyMs`. */
export function keepStatusFile(scheduler: Scheduler, path: string, everyMs = 5000): () => Promise<void> {
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;
  const write = () => {
    if (dirty) return;
    dirty = true;
    writing = writing.then(async () => {
      dirty = false;
      try {
        await writeJsonAtomic(path, await statusSnapshot(scheduler));
      } catch (error) {
        scheduler.logger.warn({ err: error, path }, "could not write the status file");
      }
    });
  };
  const events = [
    "run:succeeded",
    "run:failed",
    "run:timed-out",
    "run:skipped",
    "scheduler:paused-all",
  ] as const;
  for (const e of events) scheduler.on(e, write);
  const timer = setInterval(write, everyMs);
  timer.unref();
  write();
  return async () => {
    clearInterval(timer);
    for (const e of events) scheduler.off(e, write);
    write();
    await writing;
  };
}
