/**
 * Executions: the one collection that grows without bound (a fire every 30 s is a million records
 * in a year), so it is stored as a small log-structured store rather than a file per record:
 *
 * - `log-<n>.jsonl`: every change since the last seal, one JSON line each, appended with group
 *   commit (execution-live-log.ts).
 * - When the log reaches `segmentLines` lines, a new log starts and the old one is *sealed* in
 *   the background into `seg-<n>.jsonl` with a binary index `seg-<n>.idx`; `checkpoint.json` is
 *   the commit point (execution-sealing.ts). Segments of one size tier are merged, and mostly
 *   pruned ones compacted (execution-merging.ts).
 * - Opening reads the checkpoint, the segment indexes and replays only the current log, so open
 *   time does not grow with history (execution-recovery.ts).
 *
 * Retention deletes with tombstones (execution-tombstones.ts, execution-retention.ts), so a
 * prune batch costs its own size, never the size of a segment.
 *
 * `ExecutionStore` is the facade over those parts. They share one `ExecutionMemory`
 * (execution-memory.ts: what is in memory, and where a record is); the calls of the Storage
 * contract are answered by execution-claims.ts (claims and the fire path) and execution-reads.ts
 * (queries).
 */

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type {
  ClaimResult,
  ExecutionPatch,
  ExecutionPrune,
  ExecutionQuery,
  ExecutionRecord,
  FireClaim,
  Page,
  ScheduleStateRecord,
  ScheduleSummary,
  StateCommit,
} from "@tradecron/core";
import { fsyncDir } from "./atomic-write.js";
import { ioError } from "./errors.js";
import { CheckpointWriter } from "./execution-checkpoint.js";
import { Claims } from "./execution-claims.js";
import type { ExecutionContext, ExecutionStoreOptions } from "./execution-context.js";
import { type Checkpoint, type SettledFiles, settleExecutionFiles } from "./execution-files.js";
import { LiveLog } from "./execution-live-log.js";
import { ExecutionMemory } from "./execution-memory.js";
import { Merger } from "./execution-merging.js";
import { ExecutionReads } from "./execution-reads.js";
import { Recovery } from "./execution-recovery.js";
import { Retention } from "./execution-retention.js";
import { Sealer } from "./execution-sealing.js";
import { Tombstones } from "./execution-tombstones.js";
import { MaintenanceQueue } from "./maintenance-queue.js";
import { ScheduleStates } from "./schedule-states.js";

/** What {@link ExecutionStore.stats} counts (`FileStorage.stats().executions`). */
export interface ExecutionStats {
  /** Claimed or running. */
  active: number;
  /** Final executions in the current log, not yet sealed. */
  unsealed: number;
  /** Sealed segments and the final executions in them. */
  segments: number;
  sealed: number;
  /** Lines in the current execution log. */
  logLines: number;
  /** Sealed executions that retention pruned, still in their segment files until compaction. */
  prunedSealed: number;
  /** Bytes of the live segments' data files. */
  segmentBytes: number;
  /** Bytes of segment files compaction has written since open (the disk cost of pruning). */
  compactedBytes: number;
}

/** The executions of one store folder. */
export class ExecutionStore {
  private readonly memory = new ExecutionMemory();
  private readonly tombstones = new Tombstones(this.memory);
  private readonly queue: MaintenanceQueue;
  private readonly log: LiveLog;
  private readonly merger: Merger;
  private readonly sealer: Sealer;
  private readonly claims: Claims;
  private readonly reads: ExecutionReads;
  private readonly retention: Retention;
  /** Used once, by open. */
  private readonly recovery: Recovery;

  private constructor(
    dir: string,
    ctx: ExecutionContext,
    options: ExecutionStoreOptions,
    /** Committed schedule states (their lines ride in this log; see schedule-states.ts). */
    readonly states: ScheduleStates,
    files: SettledFiles,
  ) {
    const { memory, tombstones } = this;
    const checkpoint: Checkpoint = files.checkpoint ?? {
      format: 1,
      sealedThrough: 0,
      nextNo: files.maxSeen + 1,
      segments: [],
      retired: [],
      lastFire: {},
    };
    const nextNo = Math.max(checkpoint.nextNo, files.maxSeen + 1);
    const checkpoints = new CheckpointWriter(dir, checkpoint, nextNo, tombstones);
    const queue = new MaintenanceQueue((error) => {
      ctx.fail(error);
    });
    // The seal threshold is checked after every append; the sealer is built below.
    const log = new LiveLog(dir, memory, () => this.sealer.maybeRotate());
    const merger = new Merger({ dir, options, memory, checkpoints, tombstones, queue, log });
    this.queue = queue;
    this.log = log;
    this.merger = merger;
    this.sealer = new Sealer({
      dir,
      ctx,
      options,
      memory,
      states,
      checkpoints,
      tombstones,
      queue,
      merger,
      log,
    });
    this.claims = new Claims(memory, log, states);
    this.reads = new ExecutionReads(memory, log, states);
    this.retention = new Retention(memory, log, tombstones, () => merger.pruned());
    this.recovery = new Recovery({
      dir,
      ctx,
      options,
      memory,
      states,
      checkpoints,
      tombstones,
      sealer: this.sealer,
    });
  }

  /** Opens (creating, recovering and repairing as needed) the executions folder `dir`. */
  static async open(
    dir: string,
    ctx: ExecutionContext,
    options: ExecutionStoreOptions,
  ): Promise<ExecutionStore> {
    try {
      // A new folder's entry must be durable before anything in it is acknowledged.
      if (await mkdir(dir, { recursive: true })) await fsyncDir(dirname(dir));
    } catch (error) {
      throw ioError("create", dir, error);
    }
    const files = await settleExecutionFiles(dir, ctx.quarantine);
    const states = await ScheduleStates.open(dir, ctx.quarantine);
    const store = new ExecutionStore(dir, ctx, options, states, files);
    await store.recovery.run(files);
    return store;
  }

  // ------------------------------------------------------------------------------------------
  // the fire path (execution-claims.ts)

  /** Claims a fire: creates the record unless (scheduleId, scheduledAt) exists. */
  claimFire(
    execution: ExecutionRecord,
  ): Promise<{ claimed: true; execution: ExecutionRecord } | { claimed: false; existing: ExecutionRecord }> {
    return this.claims.claimFire(execution);
  }

  /** Claims a batch of fires in one group commit (Storage.claimFires). */
  claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    return this.claims.claimFires(claims);
  }

  /**
   * Applies `patch` if `instanceId` still holds the execution; with `state`, commits the
   * schedule's state in the same log line (see Storage.updateExecution). `scheduleExists` says
   * whether the schedule is still stored (the state of a deleted one is not written).
   */
  updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
    scheduleExists?: (scheduleId: string) => boolean,
  ): Promise<ExecutionRecord | null> {
    return this.claims.updateExecution(id, instanceId, patch, state, scheduleExists);
  }

  /** Removes the states of these schedules (deleted ones), durably. */
  deleteStates(scheduleIds: readonly string[]): Promise<void> {
    return this.claims.deleteStates(scheduleIds);
  }

  /** Extends the leases `instanceId` still holds; returns their ids. */
  renewLeases(instanceId: string, ids: string[], leaseExpiresAt: number): Promise<string[]> {
    return this.claims.renewLeases(instanceId, ids, leaseExpiresAt);
  }

  /** Finalises an active execution as cancelled, whoever holds it. */
  cancelExecution(id: string, reason: string, endedAt: number): Promise<ExecutionRecord | null> {
    return this.claims.cancelExecution(id, reason, endedAt);
  }

  /** Deletes a claimed (not started) execution held by `instanceId`. */
  releaseClaim(id: string, instanceId: string): Promise<boolean> {
    return this.claims.releaseClaim(id, instanceId);
  }

  /** Takes over expired leases (see Storage.takeOverExpired). */
  takeOverExpired(
    instanceId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    jobs?: readonly string[],
  ): Promise<ExecutionRecord[]> {
    return this.claims.takeOverExpired(instanceId, now, leaseExpiresAt, limit, jobs);
  }

  // ------------------------------------------------------------------------------------------
  // reads (execution-reads.ts)

  /** The execution with this id. */
  getExecution(id: string): Promise<ExecutionRecord | null> {
    return this.reads.getExecution(id);
  }

  /** The execution of fire (scheduleId, scheduledAt). */
  findExecution(scheduleId: string, scheduledAt: number): Promise<ExecutionRecord | null> {
    return this.reads.findExecution(scheduleId, scheduledAt);
  }

  /** Who holds each fire (its execution's instance), null where it has none: one read for the batch. */
  fireHolders(fires: readonly { scheduleId: string; scheduledAt: number }[]): Promise<(string | null)[]> {
    return this.reads.fireHolders(fires);
  }

  /** The schedule's active executions, oldest first. */
  activeExecutions(scheduleId: string): Promise<ExecutionRecord[]> {
    return this.reads.activeExecutions(scheduleId);
  }

  /** The latest own-fire instant of a schedule. */
  lastFireAt(scheduleId: string): Promise<number | null> {
    return this.reads.lastFireAt(scheduleId);
  }

  /** The committed state of a schedule (durable), checked; throws `STORAGE_CORRUPT`. */
  getScheduleState(scheduleId: string): Promise<ScheduleStateRecord | null> {
    return this.reads.getScheduleState(scheduleId);
  }

  /** See Storage.scheduleSummaries: memory first, then only the segment rows that can beat it. */
  scheduleSummaries(scheduleIds: readonly string[]): Promise<ScheduleSummary[]> {
    return this.reads.scheduleSummaries(scheduleIds);
  }

  /** Lists executions newest first (see Storage.listExecutions). */
  listExecutions(query: ExecutionQuery): Promise<Page<ExecutionRecord>> {
    return this.reads.listExecutions(query);
  }

  /** Schedule ids with executions, ascending, after `after`, at most `limit`. */
  executionScheduleIds(after: string | null, limit: number): string[] {
    return this.reads.executionScheduleIds(after, limit);
  }

  // ------------------------------------------------------------------------------------------
  // retention (execution-retention.ts; rules: core's prune.ts)

  /**
   * Deletes up to `prune.limit` final executions of one schedule, with tombstones, in one group
   * commit; resolves once the lines are durable.
   */
  pruneExecutions(prune: ExecutionPrune): Promise<number> {
    return this.retention.pruneExecutions(prune);
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  /** Counts for status and tests: records per place, segments, log lines, what pruning left to reclaim. */
  stats(): ExecutionStats {
    const { memory } = this;
    return {
      active: memory.active.size,
      unsealed: memory.memtables().reduce((n, m) => n + m.finals.size, 0),
      segments: memory.segments.length,
      sealed: memory.segments.reduce((n, s) => n + s.live, 0),
      logLines: memory.tail.log?.lines ?? 0,
      prunedSealed: memory.segments.reduce((n, s) => n + s.deadCount, 0),
      segmentBytes: memory.segments.reduce((n, s) => n + s.index.dataBytes, 0),
      compactedBytes: this.merger.compactedBytes,
    };
  }

  /**
   * Waits for background sealing and merging to finish (tests, benchmarks, close); merges and
   * compactions put off while retention prunes are started now.
   */
  async idle(): Promise<void> {
    this.merger.rewriteDeferred();
    await this.queue.idle();
    await this.log.settled();
  }

  /** Finishes background work, makes everything durable and closes the files. */
  async close(): Promise<void> {
    if (this.log.closed) return;
    this.merger.cancelDeferred();
    await this.idle().catch(() => {});
    await this.log.close();
    for (const s of this.memory.segments) await s.close();
  }
}
