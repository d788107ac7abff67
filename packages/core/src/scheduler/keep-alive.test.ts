/**
 * Keeping the process alive, checked on real Node processes: a script that starts a scheduler
 * keeps running until stop() (unless `keepAlive: false`), and a top-level `await stop()` always
 * resolves. The scripts import the built package (a child process cannot import TypeScript).
 */

import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const dist = join(packageDir, "dist", "index.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (!entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The built package, or a clear error when it is missing or older than the sources. */
function built(): string {
  const how = "build it first (npm test does; by hand: cd packages/core && npx tsup)";
  if (!existsSync(dist)) throw new Error(`${dist} is missing: ${how}`);
  if (newestSource(join(packageDir, "src")) > statSync(dist).mtimeMs) {
    throw new Error(`${dist} is older than src/: ${how}`);
  }
  return pathToFileURL(dist).href;
}

/** Runs an ES module script with this Node; resolves with its exit code, output and run time. */
function runScript(
  source: string,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], { stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: stdout.trim(), stderr, ms: Date.now() - started });
    });
  });
}

describe("a started scheduler and the Node process", () => {
  it("keeps a script alive until stop(), as croner and node-cron do", async () => {
    const result = await runScript(`
      import { Scheduler } from ${JSON.stringify(built())};
      const scheduler = new Scheduler();
      let runs = 0;
      scheduler.register("tick", () => { runs++; });
      scheduler.on("run:succeeded", () => {
        if (runs === 2) void scheduler.stop().then(() => console.log(JSON.stringify({ runs, state: scheduler.state })));
      });
      await scheduler.createSchedule({ id: "tick", job: "tick", trigger: { cron: "* * * * * *" } });
      await scheduler.start();
      // The module ends here: only the started scheduler keeps the process alive.
    `);
    // Before: the process exited at once, before the first fire, printing nothing.
    expect(result).toMatchObject({ code: 0, stdout: JSON.stringify({ runs: 2, state: "stopped" }) });
  });

  it("lets the process end with keepAlive: false (the host decides when it exits)", async () => {
    const result = await runScript(`
      import { Scheduler } from ${JSON.stringify(built())};
      const scheduler = new Scheduler({ keepAlive: false });
      scheduler.register("tick", () => console.log("ran"));
      await scheduler.createSchedule({ id: "tick", job: "tick", trigger: { cron: "* * * * * *" } });
      await scheduler.start();
      console.log("started");
    `);
    expect(result).toMatchObject({ code: 0, stdout: "started" });
    expect(result.ms).toBeLessThan(5000);
  });

  it("resolves a top-level await stop() while a notifier is still delivering, with or without keepAlive", async () => {
    for (const options of ["{}", "{ keepAlive: false }"]) {
      const result = await runScript(`
        import { Scheduler } from ${JSON.stringify(built())};
        // A notifier whose delivery waits on an unref'd timer, like an HTTP client's.
        const slow = { name: "slow", notify: () => new Promise((resolve) => setTimeout(resolve, 300).unref()) };
        const scheduler = new Scheduler({ notifiers: [slow], ...${options} });
        await scheduler.start();
        await scheduler.pauseAll({ actor: "ops", reason: "test" });
        await scheduler.stop();
        console.log("stopped");
      `);
      // Before: exit code 13 (unsettled top-level await): stop() waited on unref'd timers only.
      expect(result, options).toMatchObject({ code: 0, stdout: "stopped" });
    }
  });
});
