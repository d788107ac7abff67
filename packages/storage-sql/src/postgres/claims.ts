/**
 * Claiming fires on PostgreSQL, the front of the fire path. Exactly-once is decided by the
 * database: a unique constraint on (schedule_id, scheduled_at). Single claims of one event-loop
 * turn share one statement (`claimFires` in statements.ts), claims that want their schedule's state
 * or the overlap answer go through the batch statement (`claimFireBatch`), and a claim lost to a
 * holder that released the fire in between is sent again.
 */

import { createHash } from "node:crypto";
import {
  type ClaimResult,
  ConflictError,
  type ExecutionRecord,
  type FireClaim,
  type FireRef,
  StorageError,
} from "@tradecron/core";
import { Batcher } from "../shared/batcher.js";
import { driverCode } from "../shared/errors.js";
import { EXECUTIONS, toColumnObject } from "../shared/rows.js";
import { boolArray, columnArrays } from "./arrays.js";
import { decodeExecution } from "./codec.js";
import type { PgConnection } from "./connection.js";
import { isDataError, UNIQUE_VIOLATION } from "./sqlstate.js";
import type { PgScheduleStates } from "./state.js";
import type { PgNames, PostgresStatements } from "./statements.js";

const NO_IDS: ReadonlySet<string> = new Set();

function fireKey(scheduleId: string, scheduledAt: number): string {
  return `${scheduleId}\u0000${scheduledAt}`;
}

/**
 * The order in which a burst of claims is cut into batches. When many fires come due at once every
 * instance claims all of them; sent in the same order, the instances would race for the same rows
 * batch after batch, each waiting for the other's uncommitted batch. Sorted by fire and rotated to
 * a place that depends on the instance, each instance starts on a different stretch, wins it
 * without waiting, and later finds the rest committed already (a cheap conflict).
 */
function arrangeClaims(claims: ExecutionRecord[]): number[] {
  const order = claims.map((_, i) => i);
  order.sort((a, b) => {
    const x = claims[a] as ExecutionRecord;
    const y = claims[b] as ExecutionRecord;
    return x.scheduleId < y.scheduleId ? -1 : x.scheduleId > y.scheduleId ? 1 : x.scheduledAt - y.scheduledAt;
  });
  const instance = claims[0]?.instanceId ?? "";
  const start =
    Number.parseInt(createHash("sha1").update(instance).digest("hex").slice(0, 8), 16) % order.length;
  return [...order.slice(start), ...order.slice(0, start)];
}

/**
 * The record a won claim hands back: the caller's own when it is frozen (it cannot change, and
 * it is exactly what was written, as MemoryStorage keeps it), else a deep copy, so the caller
 * never shares an object with what it sent.
 */
function wonRecord(execution: ExecutionRecord) {
  return Object.isFrozen(execution) ? execution : decodeExecution(sentRow(execution));
}

/** The row a claim wrote, as its own copy (JSON fields too), keyed by column. */
function sentRow(execution: ExecutionRecord): Record<string, unknown> {
  return structuredClone(toColumnObject(EXECUTIONS, execution));
}

/** Claims of PostgresStorage: `claimFire`, `claimFires` and the step-in probe `fireHolders`. */
export class PgClaims {
  private readonly claims: Batcher<ExecutionRecord, ClaimResult>;
  /** Single claims that want their schedule's state: coalesced into `claimFires` batches. */
  private readonly stateClaims: Batcher<FireClaim, ClaimResult>;

  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    private readonly names: PgNames,
    private readonly states: PgScheduleStates,
  ) {
    this.claims = new Batcher((batch) => this.runClaims(batch), 500, arrangeClaims);
    this.stateClaims = new Batcher((batch) => this.runStateClaims(batch));
  }

  async claimFire(claim: FireClaim): Promise<ClaimResult> {
    if (!this.conn.opened) await this.conn.open();
    // Claims that ask for more than the claim go through the batch statement, which answers.
    if (claim.withState === true || claim.withOverlap === true) return this.stateClaims.submit(claim);
    return this.claims.submit(claim.execution);
  }

  /** Single claims with state of one turn, as one `claimFires` (its statement reads the states). */
  private async runStateClaims(batch: FireClaim[]): Promise<(ClaimResult | Error)[]> {
    try {
      return await this.claimFires(batch);
    } catch (error) {
      // One bad row fails the statement: retry one by one so only its caller gets the error.
      return this.claimRoundFailed(
        error,
        batch,
        (c) => c.execution.id,
        (c) => this.runStateClaims([c]),
      );
    }
  }

  /**
   * What each caller of a failed claim round gets: a bad row fails the whole statement, so a
   * batch is retried one by one (only that caller gets the error); a lone claim whose execution id
   * exists is a ConflictError; anything else fails every caller.
   */
  private claimRoundFailed<T>(
    error: unknown,
    batch: readonly T[],
    idOf: (item: T) => string,
    alone: (item: T) => Promise<(ClaimResult | Error)[]>,
  ): Promise<(ClaimResult | Error)[]> | (ClaimResult | Error)[] {
    if (batch.length > 1 && isDataError((error as Error).cause)) {
      return Promise.all(batch.map(async (item) => (await alone(item))[0] as ClaimResult | Error));
    }
    const only = batch[0];
    if (batch.length === 1 && only !== undefined && driverCode((error as Error).cause) === UNIQUE_VIOLATION) {
      return [
        new ConflictError("CONFLICT", `execution '${idOf(only)}' exists already`, {
          field: "id",
          cause: error,
          details: { table: this.names.display("executions") },
        }),
      ];
    }
    const e = error instanceof Error ? error : new Error(String(error));
    return batch.map(() => e);
  }

  /**
   * One autocommit statement for the batch (`claimFireBatch`: the claims, the states asked for,
   * and the holders committed before it began), plus one read of the holders that committed while
   * it ran, if any. A fire claimed twice in the batch is sent once: the first claim decides, the
   * later ones get its outcome's record.
   */
  async claimFires(claims: readonly FireClaim[]): Promise<ClaimResult[]> {
    if (claims.length === 0) return [];
    if (!this.conn.opened) await this.conn.open();
    const firstOf = new Map<string, number>();
    let repeated: Map<number, number> | null = null;
    const send: FireClaim[] = [];
    const sentAt: number[] = [];
    for (let i = 0; i < claims.length; i++) {
      const { execution } = claims[i] as FireClaim;
      const key = fireKey(execution.scheduleId, execution.scheduledAt);
      const first = firstOf.get(key);
      if (first === undefined) {
        firstOf.set(key, i);
        send.push(claims[i] as FireClaim);
        sentAt.push(i);
      } else {
        repeated ??= new Map();
        repeated.set(i, first);
      }
    }
    const decided = await this.claimBatch(send, 0);
    if (repeated === null) return decided;
    const results = new Array<ClaimResult>(claims.length);
    sentAt.forEach((i, k) => {
      results[i] = decided[k] as ClaimResult;
    });
    for (const [i, first] of repeated) {
      const outcome = results[first] as ClaimResult;
      // A copy: no two results share a record.
      const holder = outcome.claimed ? outcome.execution : outcome.existing;
      results[i] = { claimed: false, existing: structuredClone(holder) };
    }
    return results;
  }

  /** Claims distinct fires; see {@link PgClaims.claimFires}. */
  private async claimBatch(claims: readonly FireClaim[], round: number): Promise<ClaimResult[]> {
    const executions = claims.map((c) => c.execution);
    const res = await this.conn.query("claimFires", "executions", this.sql.claimFireBatch, [
      ...columnArrays(EXECUTIONS, executions),
      boolArray(claims.map((c) => c.withState === true)),
      boolArray(claims.map((c) => c.withOverlap === true)),
    ]);
    // Won: the claims' ids, and the state rows by schedule. Lost: the holder's row by fire.
    let won = new Set<string>();
    let states: Record<string, Record<string, unknown>> = {};
    let busy: ReadonlySet<string> = NO_IDS;
    const held = new Map<string, Record<string, unknown>>();
    for (const row of res.rows) {
      if (row.summary === true) {
        won = new Set((row.won_ids as string[] | null) ?? []);
        states = (row.won_states as typeof states | null) ?? {};
        if (row.won_busy) busy = new Set(row.won_busy as string[]);
      } else held.set(fireKey(row.schedule_id as string, row.scheduled_at as number), row);
    }
    // Won claims of one schedule in this batch do not see each other in the statement: every
    // one after the first has the first active beside it.
    const wonBefore = new Set<string>();
    const results = new Array<ClaimResult>(claims.length);
    const unknown: number[] = [];
    claims.forEach((c, i) => {
      const e = c.execution;
      if (won.has(e.id)) {
        const execution = wonRecord(e);
        const result: ClaimResult = { claimed: true, execution };
        if (c.withState === true) result.state = this.states.forClaim(e.scheduleId, states[e.scheduleId]);
        if (c.withOverlap === true) result.othersActive = busy.has(e.id) || wonBefore.has(e.scheduleId);
        wonBefore.add(e.scheduleId);
        results[i] = result;
        return;
      }
      const existing = held.get(fireKey(e.scheduleId, e.scheduledAt));
      if (existing) results[i] = { claimed: false, existing: decodeExecution(existing) };
      else unknown.push(i);
    });
    if (unknown.length === 0) return results;
    // Lost to holders that committed while the statement ran (not in its snapshot): one read.
    const found = await this.conn.query("claimFires", "executions", this.sql.findFires, [
      unknown.map((i) => (claims[i] as FireClaim).execution.scheduleId),
      unknown.map((i) => (claims[i] as FireClaim).execution.scheduledAt),
    ]);
    const byFire = new Map(
      found.rows.map((row) => [fireKey(row.schedule_id as string, Number(row.scheduled_at)), row]),
    );
    const again: number[] = [];
    for (const i of unknown) {
      const e = (claims[i] as FireClaim).execution;
      const existing = byFire.get(fireKey(e.scheduleId, e.scheduledAt));
      if (existing) results[i] = { claimed: false, existing: decodeExecution(existing) };
      else again.push(i); // the holder released it between our statement and this read: claim again
    }
    if (again.length === 0) return results;
    if (round >= 5) {
      throw new StorageError("STORAGE", "postgres: claimFires kept racing with releases; giving up", {
        details: { table: this.names.display("executions") },
      });
    }
    const retried = await this.claimBatch(
      again.map((i) => claims[i] as FireClaim),
      round + 1,
    );
    again.forEach((i, k) => {
      results[i] = retried[k] as ClaimResult;
    });
    return results;
  }

  /** Claims a batch of fires in one statement; see `claimFires` in statements.ts. */
  private async runClaims(batch: ExecutionRecord[], round = 0): Promise<(ClaimResult | Error)[]> {
    let won: Set<string>;
    try {
      const res = await this.conn.query<{ id: string }>(
        "claimFire",
        "executions",
        this.sql.claimFires,
        columnArrays(EXECUTIONS, batch),
      );
      won = new Set(res.rows.map((r) => r.id));
    } catch (error) {
      // A bad row (a duplicate execution id, a NULL where none may be) fails the whole
      // statement: retry one by one so only that caller gets the error.
      return this.claimRoundFailed(
        error,
        batch,
        (e) => e.id,
        (e) => this.runClaims([e], round),
      );
    }
    // Raw rows by fire; every caller decodes its own copy, so no two callers share a record.
    const byFire = new Map<string, Record<string, unknown>>();
    const results: (ClaimResult | Error | undefined)[] = batch.map((e) => {
      if (!won.has(e.id)) return undefined;
      won.delete(e.id); // an id sent twice wins once
      // A racer in this batch that lost to it decodes the winner's row as sent.
      byFire.set(fireKey(e.scheduleId, e.scheduledAt), sentRow(e));
      return { claimed: true, execution: wonRecord(e) };
    });
    // The rest lost: to a racer in this batch (its row is in `byFire`) or to another caller.
    const unknown = batch.filter(
      (e, i) => results[i] === undefined && !byFire.has(fireKey(e.scheduleId, e.scheduledAt)),
    );
    if (unknown.length > 0) {
      try {
        const res = await this.conn.query("claimFire", "executions", this.sql.findFires, [
          unknown.map((e) => e.scheduleId),
          unknown.map((e) => e.scheduledAt),
        ]);
        for (const row of res.rows)
          byFire.set(fireKey(row.schedule_id as string, Number(row.scheduled_at)), row);
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        return batch.map((_, i) => results[i] ?? e);
      }
    }
    const again: number[] = [];
    batch.forEach((e, i) => {
      if (results[i] !== undefined) return;
      const existing = byFire.get(fireKey(e.scheduleId, e.scheduledAt));
      if (existing) results[i] = { claimed: false, existing: decodeExecution(existing) };
      else again.push(i); // the holder released it between our insert and our read: try again
    });
    if (again.length > 0) {
      if (round >= 5) {
        const e = new StorageError("STORAGE", "postgres: claimFire kept racing with releases; giving up", {
          details: { table: this.names.display("executions") },
        });
        for (const i of again) results[i] = e;
      } else {
        const retried = await this.runClaims(
          again.map((i) => batch[i] as ExecutionRecord),
          round + 1,
        );
        again.forEach((i, j) => {
          results[i] = retried[j];
        });
      }
    }
    return results as (ClaimResult | Error)[];
  }

  /**
   * One read for the batch (`fireHolders` in statements.ts); with the expected holders,
   * `fireHoldersExcept`, whose answer holds only the fires held otherwise: a burst's probe then
   * brings back a few rows instead of one per fire (half the client's CPU for the probe).
   */
  async fireHolders(fires: readonly FireRef[], expected?: readonly string[]): Promise<(string | null)[]> {
    if (fires.length === 0) return [];
    if (!this.conn.opened) await this.conn.open();
    if (expected !== undefined && expected.length === fires.length)
      return this.holdersExcept(fires, expected);
    const res = await this.conn.query<{ i: string; instance_id: string }>(
      "fireHolders",
      "executions",
      this.sql.fireHolders,
      [fires.map((f) => f.scheduleId), fires.map((f) => f.scheduledAt)],
    );
    const holders = new Array<string | null>(fires.length).fill(null);
    for (const row of res.rows) holders[Number(row.i) - 1] = row.instance_id;
    return holders;
  }

  private async holdersExcept(
    fires: readonly FireRef[],
    expected: readonly string[],
  ): Promise<(string | null)[]> {
    const names: string[] = [];
    const position = new Map<string, number>();
    const owners = expected.map((name) => {
      let p = position.get(name);
      if (p === undefined) {
        p = names.push(name);
        position.set(name, p);
      }
      return p;
    });
    const res = await this.conn.query<{ i: string; instance_id: string | null }>(
      "fireHolders",
      "executions",
      this.sql.fireHoldersExcept,
      [fires.map((f) => f.scheduleId), fires.map((f) => f.scheduledAt), owners, names],
    );
    const holders: (string | null)[] = expected.slice();
    for (const row of res.rows) holders[Number(row.i) - 1] = row.instance_id;
    return holders;
  }
}
