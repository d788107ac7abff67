// Batch claim vs single claims, per storage: N fresh fires claimed with one `claimFires` call,
// against the same N claimed with N `claimFire` calls issued at once (how a burst claims without
// the batch path: PostgreSQL coalesces them per turn, SQLite and FileStorage group-commit them).
// Median of RUNS; each run claims fresh fires in a fresh store. Also: claimFires of N fires that
// are all taken already (the losing side of a race), claimFires with `withState`, and the
// step-in probe of N held fires (`fireHolders` in batches of 1,024, as the scheduler sends it),
// without and with the expected holders (the preferred instances, all right here): wall time
// and this process's CPU per fire.
//
//   node bench/claim-batch.bench.mjs [--n 10000] [--runs 5] [--only memory,file,sqlite,postgres]
//
// Needs the built packages (`pnpm run build`) and PostgreSQL at TRADECRON_BENCH_PG (default
// postgres://postgres@127.0.0.1:5432/test); each PostgreSQL run uses a fresh schema, dropped after.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MemoryStorage } from "@tradecron/core";
import { makeExecution } from "@tradecron/core/testing";
import { FileStorage } from "@tradecron/storage-fs";
import { PostgresStorage, SqliteStorage } from "@tradecron/storage-sql";
import pg from "pg";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "10000" },
    runs: { type: "string", default: "5" },
    only: { type: "string", default: "memory,file,sqlite,postgres" },
  },
});
const N = Number(values.n);
const RUNS = Number(values.runs);
const PG_URL = process.env.TRADECRON_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test";

let schemaSeq = 0;
const factories = {
  memory: async () => ({ storage: new MemoryStorage({ maxExecutions: 10 * N }), done: async () => {} }),
  file: async () => {
    const dir = mkdtempSync(join(tmpdir(), "tc-claim-bench-"));
    return {
      storage: new FileStorage({ dir }),
      done: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), "tc-claim-bench-"));
    return {
      storage: new SqliteStorage({ path: join(dir, "store.db"), watchIntervalMs: false }),
      done: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  postgres: async () => {
    const schema = `tc_claim_bench_${process.pid}_${schemaSeq++}`;
    return {
      storage: new PostgresStorage({ connectionString: PG_URL, schema, notify: false }),
      done: async () => {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      },
    };
  },
};

/** N fresh claims (frozen, as the scheduler sends them), `withState` if asked. */
function claims(base, withState = false) {
  return Array.from({ length: N }, (_, i) => ({
    execution: Object.freeze(
      makeExecution({ scheduleId: `s-${i % 500}`, scheduledAt: base + Math.floor(i / 500) * 1000 }),
    ),
    ...(withState ? { withState: true } : {}),
  }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(make, fn) {
  const { storage, done } = await make();
  await storage.open();
  try {
    return await fn(storage);
  } finally {
    await storage.close();
    await done();
  }
}

async function measure(name) {
  const make = factories[name];
  const out = {
    batch: [],
    singles: [],
    lost: [],
    withState: [],
    probe: [],
    probeCpu: [],
    hint: [],
    hintCpu: [],
  };
  for (let r = 0; r < RUNS; r++) {
    const base = 1_800_000_000_000 + r * 10_000_000;
    out.batch.push(
      await timed(make, async (s) => {
        const c = claims(base);
        const t = performance.now();
        const res = await s.claimFires(c);
        const ms = performance.now() - t;
        if (res.filter((x) => x.claimed).length !== N) throw new Error(`${name}: batch did not win all`);
        return ms;
      }),
    );
    out.singles.push(
      await timed(make, async (s) => {
        const c = claims(base);
        const t = performance.now();
        const res = await Promise.all(c.map((x) => s.claimFire(x)));
        const ms = performance.now() - t;
        if (res.filter((x) => x.claimed).length !== N) throw new Error(`${name}: singles did not win all`);
        return ms;
      }),
    );
    out.lost.push(
      await timed(make, async (s) => {
        await s.claimFires(claims(base));
        const rivals = claims(base).map((x) => ({ execution: { ...x.execution, instanceId: "instance-b" } }));
        const t = performance.now();
        const res = await s.claimFires(rivals);
        const ms = performance.now() - t;
        if (res.some((x) => x.claimed)) throw new Error(`${name}: a taken fire was won`);
        return ms;
      }),
    );
    await timed(make, async (s) => {
      const c = claims(base);
      await s.claimFires(c);
      const fires = c.map((x) => ({
        scheduleId: x.execution.scheduleId,
        scheduledAt: x.execution.scheduledAt,
      }));
      const probe = async (hint) => {
        const cpu = process.cpuUsage();
        const t = performance.now();
        for (let i = 0; i < N; i += 1024) {
          const part = fires.slice(i, i + 1024);
          const holders = await s.fireHolders(part, hint ? part.map(() => "instance-a") : undefined);
          if (holders.some((h) => h !== "instance-a")) throw new Error(`${name}: probe`);
        }
        const used = process.cpuUsage(cpu);
        return [performance.now() - t, (used.user + used.system) / N];
      };
      await probe(false); // warm-up: the first probe also prepares the statement
      await probe(true);
      const [ms, cpu] = await probe(false);
      const [hintMs, hintCpu] = await probe(true);
      out.probe.push(ms);
      out.probeCpu.push(cpu);
      out.hint.push(hintMs);
      out.hintCpu.push(hintCpu);
    });
    out.withState.push(
      await timed(make, async (s) => {
        const c = claims(base, true);
        const t = performance.now();
        const res = await s.claimFires(c);
        const ms = performance.now() - t;
        if (res.some((x) => !x.claimed || x.state !== null)) throw new Error(`${name}: withState`);
        return ms;
      }),
    );
  }
  const row = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v)]));
  const rate = (ms) => `${Math.round(N / (ms / 1000)).toLocaleString("en-US")}/s`;
  console.log(
    `| ${name} | ${row.batch.toFixed(1)} ms (${rate(row.batch)}) | ${row.singles.toFixed(1)} ms (${rate(row.singles)}) | ` +
      `${(row.singles / row.batch).toFixed(1)}x | ${row.lost.toFixed(1)} ms | ${row.withState.toFixed(1)} ms | ` +
      `${row.probe.toFixed(1)} ms, ${row.probeCpu.toFixed(2)} µs | ${row.hint.toFixed(1)} ms, ${row.hintCpu.toFixed(2)} µs |`,
  );
}

console.log(`${N.toLocaleString("en-US")} fresh fires, median of ${RUNS} runs, node ${process.version}`);
console.log(
  "| storage | claimFires (1 call) | claimFire x N (at once) | ratio | claimFires, all taken | claimFires withState | fireHolders (wall, CPU a fire) | fireHolders with expected holders |",
);
console.log("|---|--:|--:|--:|--:|--:|--:|--:|");
for (const name of values.only.split(",")) await measure(name);
