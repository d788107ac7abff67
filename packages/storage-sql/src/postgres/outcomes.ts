/**
 * Outcome writes on PostgreSQL: the fenced `updateExecution` of the instance that holds a fire.
 * Patches without a state of one event-loop turn share one statement (`updateExecutions`) and go in
 * the background lane: they decide no start time, only when a burst is fully recorded. A patch with
 * a state is its own statement, which writes the outcome and the state together, or neither.
 */

import type { ExecutionPatch, ExecutionRecord, StateCommit } from "@tradecron/core";
import { Batcher } from "../shared/batcher.js";
import { Lane } from "../shared/lanes.js";
import { stateConflict } from "../shared/state-rows.js";
import { numberArray, textArray } from "./arrays.js";
import { decodeExecution } from "./codec.js";
import type { PgConnection } from "./connection.js";
import type { PgExecutions } from "./executions.js";
import { isDataError } from "./sqlstate.js";
import { PATCH_FIELDS, type PostgresStatements } from "./statements.js";

interface UpdateRequest {
  id: string;
  instanceId: string;
  patch: ExecutionPatch;
}

const PATCH_ENTRIES = Object.entries(PATCH_FIELDS);

/**
 * A batch of fenced patches as the column arrays of `updateExecutions` (ids, instances, masks,
 * then one array per patch field): bit i of a row's mask says it sets the i-th field. Only the
 * fields a holder may change are read: a stray `scheduleId` in a patch must not move the fire.
 */
function patchArrays(batch: readonly UpdateRequest[]): string[] {
  const masks = new Array<number>(batch.length);
  const fields = PATCH_ENTRIES.map(() => new Array<unknown>(batch.length));
  for (let r = 0; r < batch.length; r++) {
    const patch = (batch[r] as UpdateRequest).patch as Record<string, unknown>;
    let mask = 0;
    for (let f = 0; f < PATCH_ENTRIES.length; f++) {
      const value = patch[(PATCH_ENTRIES[f] as [string, string])[0]];
      (fields[f] as unknown[])[r] = value ?? null;
      if (value !== undefined) mask |= 1 << f;
    }
    masks[r] = mask;
  }
  return [
    textArray(batch.map((u) => u.id)),
    textArray(batch.map((u) => u.instanceId)),
    numberArray(masks),
    ...PATCH_ENTRIES.map(([, type], f) => {
      const values = fields[f] as unknown[];
      if (type === "jsonb") return textArray(values.map((v) => (v === null ? null : JSON.stringify(v))));
      if (type === "text") return textArray(values as (string | null)[]);
      return numberArray(values as (number | null)[]);
    }),
  ];
}

/** The fenced outcome writes of PostgresStorage. */
export class PgOutcomes {
  private readonly updates: Batcher<UpdateRequest, ExecutionRecord | null>;

  constructor(
    private readonly conn: PgConnection,
    private readonly sql: PostgresStatements,
    /** Names the schedule of a state conflict. */
    private readonly executions: PgExecutions,
  ) {
    this.updates = new Batcher((batch) => this.runUpdates(batch));
  }

  async updateExecution(
    id: string,
    instanceId: string,
    patch: ExecutionPatch,
    state?: StateCommit,
  ): Promise<ExecutionRecord | null> {
    if (!this.conn.opened) await this.conn.open();
    if (state === undefined) return this.updates.submit({ id, instanceId, patch });
    // Not batched: its own statement writes the outcome and the state together, or neither.
    const res = await this.conn.query(
      "updateExecution",
      "schedule_state",
      this.sql.updateExecutionWithState,
      [
        ...patchArrays([{ id, instanceId, patch }]),
        id,
        instanceId,
        JSON.stringify(state.value),
        state.expectedRevision,
        state.at,
      ],
      Lane.Background,
    );
    const { state_held: held, ...row } = res.rows[0] as Record<string, unknown>;
    if (row.id !== null && row.id !== undefined) return decodeExecution(row);
    if (held === 0) return null;
    const execution = await this.executions.getExecution(id);
    throw stateConflict(execution?.scheduleId ?? "?", state.expectedRevision);
  }

  /**
   * Applies the fenced patches of one turn (the coalesced `updateExecution` calls without a
   * state) as one statement per round; an id seen twice waits for the next round, so two
   * patches of one execution apply in call order. Each caller gets its own updated record, or
   * null when its instance no longer holds the execution. A statement that fails rejects every
   * caller in it, except a data error (one patch PostgreSQL cannot store, e.g. a result with a
   * NUL character): then each patch of the round is retried alone, so only its caller fails and
   * the others' outcomes are not lost.
   */
  private async runUpdates(batch: UpdateRequest[]): Promise<(ExecutionRecord | null | Error)[]> {
    const results: (ExecutionRecord | null | Error)[] = new Array(batch.length).fill(null);
    let todo = batch.map((_, i) => i);
    while (todo.length > 0) {
      const seen = new Set<string>();
      const round: number[] = [];
      const later: number[] = [];
      for (const i of todo) {
        const id = (batch[i] as UpdateRequest).id;
        if (seen.has(id)) later.push(i);
        else {
          seen.add(id);
          round.push(i);
        }
      }
      const outcomes = await this.updateRound(round.map((i) => batch[i] as UpdateRequest));
      round.forEach((i, k) => {
        results[i] = outcomes[k] as ExecutionRecord | null | Error;
      });
      todo = later;
    }
    return results;
  }

  /** One `updateExecutions` statement for patches of distinct executions; see {@link PgOutcomes.runUpdates}. */
  private async updateRound(round: UpdateRequest[]): Promise<(ExecutionRecord | null | Error)[]> {
    try {
      const res = await this.conn.query(
        "updateExecution",
        "executions",
        this.sql.updateExecutions,
        patchArrays(round),
        Lane.Background,
      );
      const byId = new Map(res.rows.map((row) => [row.id as string, row]));
      return round.map((u) => {
        const row = byId.get(u.id);
        return row === undefined ? null : decodeExecution(row);
      });
    } catch (error) {
      if (round.length > 1 && isDataError((error as Error).cause)) {
        return Promise.all(
          round.map(async (u) => (await this.updateRound([u]))[0] as ExecutionRecord | null | Error),
        );
      }
      const e = error instanceof Error ? error : new Error(String(error));
      return round.map(() => e);
    }
  }
}
