import { readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "@tradecron/core";
import { makeSchedule } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { type Child, spawnFixture } from "./child.js";
import { listFiles, tempDir } from "./helpers.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function track(child: Child): Child {
  cleanups.push(async () => {
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill("SIGKILL");
      await child.exited;
    }
  });
  return child;
}

async function folder() {
  const { dir, remove } = await tempDir("tc-lock-");
  cleanups.push(remove);
  return dir;
}

describe("single-writer lock across processes", () => {
  it("fails a second process fast, naming the holder; after kill -9 of the holder a new process takes over", async () => {
    const dir = await folder();
    const first = track(spawnFixture("holder.mjs", [dir, "from-first"]));
    const ready = await first.next((m) => m.t === "ready");
    expect(ready.pid).toBe(first.proc.pid);

    const second = track(spawnFixture("holder.mjs", [dir, "from-second"]));
    const refused = await second.next((m) => m.t === "error");
    expect(refused.code).toBe("STORAGE_LOCKED");
    expect(refused.message).toContain(dir);
    expect(refused.message).toContain(`process ${first.proc.pid}`);
    expect((await second.exited).code).toBe(3);

    first.proc.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const third = track(spawnFixture("holder.mjs", [dir, "from-third"]));
    expect((await third.next((m) => m.t === "ready")).pid).toBe(third.proc.pid);
    const lock = JSON.parse(await readFile(join(dir, "LOCK"), "utf8"));
    expect(lock.pid).toBe(third.proc.pid);
    third.proc.kill("SIGKILL");
    await third.exited;

    // This process takes over too, and sees what both holders acknowledged.
    const mine = new FileStorage({ dir });
    cleanups.push(() => mine.close());
    expect((await mine.listSchedules()).map((s) => s.id)).toEqual(["from-first", "from-third"]);
  });

  it("refuses this process while a child holds the folder, with STORAGE_LOCKED", async () => {
    const dir = await folder();
    const holder = track(spawnFixture("holder.mjs", [dir, "held"]));
    await holder.next((m) => m.t === "ready");
    const storage = new FileStorage({ dir });
    const error = await storage.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("STORAGE_LOCKED");
    expect((error as StorageError).details).toMatchObject({ pid: holder.proc.pid, path: join(dir, "LOCK") });
  });

  it("takes over a lock left by a process that no longer exists", async () => {
    const dir = await folder();
    const first = new FileStorage({ dir });
    await first.insertSchedule(makeSchedule({ id: "kept" }));
    await first.close();
    // A LOCK as a crashed process leaves it: same machine, a pid with no process behind it.
    const gone = spawnFixture("holder.mjs", [dir, "x"]);
    const goneReady = await gone.next((m) => m.t === "ready");
    const stale = JSON.parse(await readFile(join(dir, "LOCK"), "utf8"));
    gone.proc.kill("SIGKILL");
    await gone.exited;
    expect(stale.pid).toBe(goneReady.pid);
    await writeFile(join(dir, "LOCK"), JSON.stringify({ ...stale, acquiredAt: "2020-01-01T00:00:00.000Z" }));
    const storage = new FileStorage({ dir });
    cleanups.push(() => storage.close());
    expect((await storage.getSchedule("kept"))?.id).toBe("kept");
    expect(JSON.parse(await readFile(join(dir, "LOCK"), "utf8")).pid).toBe(process.pid);
    expect(await listFiles(dir)).not.toContain("LOCK.takeover");
  });

  it("does not take over a lock whose owner on another host still has a fresh heartbeat", async () => {
    const dir = await folder();
    await new FileStorage({ dir }).close();
    const foreign = {
      pid: 1,
      hostname: "some-other-host",
      bootId: "00000000-0000-0000-0000-000000000000",
      pidNamespace: "pid:[1]",
      startTime: "1",
      token: "elsewhere",
      acquiredAt: new Date().toISOString(),
    };
    await writeFile(join(dir, "LOCK"), JSON.stringify(foreign));
    const error = await new FileStorage({ dir, staleLockMs: 60_000 }).open().catch((e: unknown) => e);
    expect((error as StorageError).code).toBe("STORAGE_LOCKED");
    expect((error as Error).message).toContain('host "some-other-host"');
    expect((error as Error).message).toContain("60000 ms");
  });

  it("takes over a lock from another host once its heartbeat is older than staleLockMs", async () => {
    const dir = await folder();
    await new FileStorage({ dir }).close();
    const path = join(dir, "LOCK");
    await writeFile(
      path,
      JSON.stringify({
        pid: 1,
        hostname: "decommissioned-host",
        bootId: "00000000-0000-0000-0000-000000000000",
        pidNamespace: "pid:[1]",
        startTime: "1",
        token: "gone",
        acquiredAt: "2026-01-01T00:00:00.000Z",
      }),
    );
    const old = new Date(Date.now() - 5_000);
    await utimes(path, old, old);
    const storage = new FileStorage({ dir, staleLockMs: 2_000 });
    cleanups.push(() => storage.close());
    await storage.open();
    expect(JSON.parse(await readFile(path, "utf8")).pid).toBe(process.pid);
  });
});
