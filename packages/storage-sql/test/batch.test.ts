/**
 * SQL specifics of the batch claim: a batch whose write fails claims none of it (the contract's
 * "all decided or none claimed"), and on PostgreSQL three instances claiming the same burst in
 * whole batches at once split it with exactly one winner per fire.
 */

import { join } from "node:path";
import type { ClaimResult, FireClaim, Storage } from "@tradecron/core";
import { makeExecution } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { PostgresStorage, SqliteStorage } from "../src/index.js";
import { dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";
import { useTempDir } from "./helpers/sqlite.js";

usePostgres();
const tempDir = useTempDir();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const T0 = 1_768_100_000_000;

async function sqlite(): Promise<Storage> {
  const s = new SqliteStorage({ path: join(tempDir(), "store.db") });
  await s.open();
  cleanups.push(() => s.close());
  return s;
}

async function postgres(schema = uniqueSchema()): Promise<Storage> {
  const s = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 3 });
  await s.open();
  cleanups.push(async () => {
    await s.close();
    await dropSchema(schema);
  });
  return s;
}

/** A burst: `n` fires over 50 schedules, claimed by `instanceId`. */
function burst(n: number, instanceId: string): FireClaim[] {
  return Array.from({ length: n }, (_, i) => ({
    execution: makeExecution({
      scheduleId: `b-${i % 50}`,
      scheduledAt: T0 + Math.floor(i / 50) * 1000,
      instanceId,
    }),
  }));
}

describe.each([
  ["sqlite", sqlite],
  ["postgres", () => postgres()],
])("%s claimFires", (_name, make) => {
  it("claims none of a batch whose write fails (an execution id that is taken)", async () => {
    const s = await make();
    const held = makeExecution({ scheduledAt: T0 });
    await s.claimFire({ execution: held });
    const batch = burst(20, "instance-a");
    // A new fire under an id that is stored already: the write fails as a whole.
    batch.splice(10, 0, { execution: makeExecution({ id: held.id, scheduledAt: T0 + 999_999 }) });
    await expect(s.claimFires?.(batch)).rejects.toThrow();
    for (const { execution } of batch) {
      if (execution.id === held.id) continue;
      expect(await s.findExecution(execution.scheduleId, execution.scheduledAt)).toBeNull();
    }
    // Without the bad claim the same batch goes in whole.
    const good = batch.filter((c) => c.execution.id !== held.id);
    expect((await s.claimFires?.(good))?.every((r) => r.claimed)).toBe(true);
  });
});

describe("PostgreSQL claimFires across instances", () => {
  it("gives each of 3,000 fires exactly one winner when 3 instances claim the burst at once", async () => {
    const schema = uniqueSchema();
    const instances = [await postgres(schema), await postgres(schema), await postgres(schema)];
    const claims = instances.map((_, k) => burst(3000, `instance-${k}`));
    // Each in its own order, as instances that arrange their bursts differently would.
    claims[1]?.reverse();
    const results = await Promise.all(instances.map((s, k) => s.claimFires?.(claims[k] as FireClaim[])));
    const winners = new Map<string, string>();
    results.forEach((list, k) => {
      (list as ClaimResult[]).forEach((r, i) => {
        const e = (claims[k] as FireClaim[])[i]?.execution;
        if (!e || !r.claimed) return;
        const key = `${e.scheduleId}@${e.scheduledAt}`;
        expect(winners.has(key), `${key} won twice`).toBe(false);
        winners.set(key, e.id);
      });
    });
    expect(winners.size).toBe(3000);
    // Every loser was told the winner.
    results.forEach((list, k) => {
      (list as ClaimResult[]).forEach((r, i) => {
        const e = (claims[k] as FireClaim[])[i]?.execution;
        if (e && !r.claimed) expect(r.existing.id).toBe(winners.get(`${e.scheduleId}@${e.scheduledAt}`));
      });
    });
  }, 60_000);
});
