/**
 * Our own process killed with SIGKILL between submit and record, for real: a host process on the
 * built packages (FileStorage, IbkrBroker) dies after TWS took its fourth order and before the
 * order's record was written; a second process takes the fire over after its lease, submits the
 * same ten intents again, and each one has exactly one order at the fake TWS.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { FileStorage } from "@tradecron/storage-fs";
import { afterEach, describe, expect, it } from "vitest";
import { FakeTws } from "../src/testing/index.js";

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const compileCache = join(tmpdir(), "tradecron-broker-ibkr-test-compile-cache");
mkdirSync(compileCache, { recursive: true });

/** The newest mtime under `dir` (sources, not tests). */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : name.endsWith(".test.ts") ? 0 : st.mtimeMs);
  }
  return t;
}

/** Children run the built package: refuse a missing or stale build rather than test old code. */
function assertBuilt(): void {
  const dist = join(packageRoot, "dist", "index.js");
  if (!existsSync(dist))
    throw new Error(`${dist} is missing: build first (pnpm --filter @tradecron/broker-ibkr build)`);
  if (newest(join(packageRoot, "src")) > statSync(dist).mtimeMs) {
    throw new Error(`${dist} is older than src/: rebuild it (pnpm --filter @tradecron/broker-ibkr build)`);
  }
}

interface Child {
  proc: ChildProcess;
  next(t: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function host(args: string[]): Child {
  const proc = spawn(
    process.execPath,
    [join(packageRoot, "test", "fixtures", "scheduler-process.mjs"), ...args],
    {
      cwd: packageRoot,
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, NODE_COMPILE_CACHE: compileCache },
    },
  );
  const seen: Record<string, unknown>[] = [];
  const waiters: { t: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    seen.push(msg);
    for (const w of waiters.filter((w) => w.t === msg.t)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(msg);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal })),
  );
  children.push(proc);
  return {
    proc,
    exited,
    next: (t) => {
      const found = seen.find((m) => m.t === t);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ t, resolve }));
    },
  };
}

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe("a host process killed between submit and record", () => {
  it("is replaced by one that finds the order TWS already took, and places every other order once", async () => {
    assertBuilt();
    const tws = await FakeTws.start();
    tws.setPrice("AAPL", "190");
    const dir = await mkdtemp(join(tmpdir(), "tc-ibkr-kill-"));
    cleanups.push(
      () => tws.close(),
      () => rm(dir, { recursive: true, force: true }),
    );
    const first = host([String(tws.port), dir, "1500", "4"]);
    const killing = await first.next("killing");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const taken = tws.ordersWithRef(killing.clientOrderId as string);
    expect(taken).toHaveLength(1); // TWS has the order the dead process never recorded
    expect(tws.orders()).toHaveLength(4);

    const second = host([String(tws.port), dir, "1500", "0"]);
    const done = await second.next("succeeded");
    expect(done.attempts).toBeGreaterThanOrEqual(2); // a takeover of the same fire
    second.proc.stdin?.write("stop\n");
    await second.next("stopped");
    await second.exited;

    const orders = tws.orders();
    expect(orders).toHaveLength(10);
    expect(new Set(orders.map((o) => o.orderRef)).size).toBe(10);
    expect(tws.ordersWithRef(killing.clientOrderId as string)[0]?.permId).toBe(taken[0]?.permId);
    expect(tws.stats.modified).toBe(0);
    const storage = new FileStorage({ dir });
    cleanups.push(() => storage.close());
    const recorded = (await storage.listOrders({ limit: 100 })).items;
    expect(recorded).toHaveLength(10);
    expect(new Set(recorded.map((o) => o.brokerOrderId))).toEqual(
      new Set(orders.map((o) => String(o.permId))),
    );
  }, 120_000); // real processes on a machine that may be loaded: a bound, not a behaviour
});
