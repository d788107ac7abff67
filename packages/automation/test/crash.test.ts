import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStorage, type Storage } from "@tradecron/core";
import { FileStorage } from "@tradecron/storage-fs";
import { PostgresStorage } from "@tradecron/storage-sql";
import pg from "pg";
import { describe, it } from "vitest";
import { crashScenario } from "./crash.js";

/** A view of a storage that stops answering once severed, as a dead process's would. */
function severable(storage: Storage): { view: Storage; sever: () => void } {
  let severed = false;
  const view = new Proxy(storage, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "watch") return value;
      return (...args: unknown[]) =>
        severed
          ? Promise.reject(new Error("process is dead"))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return { view, sever: () => (severed = true) };
}

const PG_URL = process.env.TRADECRON_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

describe("state commit across a crash and a takeover: the cap holds, nothing is applied twice", () => {
  it("MemoryStorage (two instances on one store)", async () => {
    const store = new MemoryStorage();
    const { view, sever } = severable(store);
    await crashScenario({ a: view, kill: async () => sever(), next: async () => store });
  });

  it("FileStorage (the first instance's storage closes; the next opens the folder)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tc-automation-"));
    try {
      const a = new FileStorage({ dir });
      await crashScenario({
        a,
        kill: () => a.close(),
        next: async () => new FileStorage({ dir }),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("PostgreSQL (two instances; the first one's pool ends)", async () => {
    const schema = `tc_auto_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    const opened: PostgresStorage[] = [];
    try {
      const make = () => {
        const s = new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 3 });
        opened.push(s);
        return s;
      };
      const a = make();
      await crashScenario({ a, kill: () => a.close(), next: async () => make() });
    } finally {
      for (const s of opened) await s.close().catch(() => {});
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
