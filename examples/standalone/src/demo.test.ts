/**
 * `npm run demo` end to end: the built demo (dist/demo.js) spawned as a newcomer runs it, which
 * spawns the real `tradecron start --config demo.config.ts`. While it runs, the printed dashboard
 * answers and the printed token signs in; the output shows every promised event; a second run
 * finds the first run's data and, with --keep-running, keeps serving until Ctrl-C.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const DEMO = join(root, "dist", "demo.js");
const dataDir = join(tmpdir(), `tradecron-demo-${randomBytes(5).toString("hex")}`, "demo");

function newestIn(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, e.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** A running demo: its output so far, and a way to wait for a line. */
class Demo {
  out = "";
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    const take = (d: Buffer) => {
      this.out += d.toString();
      for (const w of [...this.waiters]) w();
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  /** The first match of `re` in the output, once it has been printed. */
  waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${this.out}`));
      }, timeoutMs);
      const check = () => {
        const m = this.out.match(re);
        if (!m) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(m);
      };
      this.waiters.add(check);
      check();
    });
  }
}

const demos: Demo[] = [];
function demo(args: string[]): Demo {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TRADECRON_|SCHEDULER_)/.test(k)) env[k] = v;
  const d = new Demo(
    spawn(process.execPath, [DEMO, "--data-dir", dataDir, ...args], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  demos.push(d);
  return d;
}

/** What the printed address and token give a person: the dashboard page, and a session. */
async function signIn(dashboard: string, token: string) {
  const page = await fetch(dashboard);
  const origin = new URL(dashboard).origin;
  const session = await fetch(`${origin}/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ token }),
  });
  return { page: page.status, type: page.headers.get("content-type"), html: await page.text(), session };
}

beforeAll(() => {
  const how = "build first: pnpm --filter @tradecron/example-standalone build (npm test does)";
  if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing; ${how}`);
  if (newestIn(join(root, "src")) > statSync(DEMO).mtimeMs) throw new Error(`${DEMO} is stale; ${how}`);
});
afterAll(async () => {
  for (const d of demos) if (d.child.exitCode === null) d.child.kill("SIGKILL");
  rmSync(join(dataDir, ".."), { recursive: true, force: true });
});

describe("npm run demo", () => {
  let firstToken = "";

  it("shows fires, a retry, a skip, an approved, an expired and a risk-refused proposal and exits that trade, and serves the dashboard while it runs", async () => {
    mkdirSync(join(dataDir, "left-from-before"), { recursive: true }); // --fresh starts over
    const d = demo(["--fresh", "--seconds", "14"]);
    const [, dashboard] = (await d.waitFor(/^dashboard: (\S+)$/m)) as [string, string];
    const [, token] = (await d.waitFor(/^sign-in token \(this run only\): (\S+)$/m)) as [string, string];
    firstToken = token;
    expect(token.length).toBeGreaterThanOrEqual(32);
    const seen = await signIn(dashboard, token);
    expect(seen.page).toBe(200);
    expect(seen.type).toMatch(/^text\/html/);
    expect(seen.session.status).toBe(201);
    expect(await seen.session.json()).toMatchObject({ name: "demo", role: "admin", via: "session" });
    expect(seen.session.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect((await signIn(dashboard, `${token}x`)).session.status).toBe(401);

    expect(await d.exited).toBe(0);
    const out = d.out;
    expect(existsSync(join(dataDir, "left-from-before"))).toBe(false);
    expect(out).toContain("== first run: the data folder was empty");
    expect(out).toMatch(/fired exit-check-demo \(scheduled, attempt 1\)/);
    expect(out).toMatch(/snapshot-demo failed \(connect ECONNREFUSED .*\); attempt 2 in 1000 ms/);
    expect(out).toMatch(/skipped exit-check-demo: overlap/);
    expect(out).toMatch(
      /\$ tradecron run-job morning-routine\n(.*\n)*morning-routine: succeeded after 1 attempt/,
    );
    expect(out).toMatch(
      /\$ tradecron approvals approve ap-\S+ --reason "breakout confirmed"\n.*\n\S+\s+yes\s+submitted/,
    );
    expect(out).toMatch(/rejected\s+high\s+buy 400 TSLA/);
    expect(out).toMatch(/expired\s+medium\s+buy 5 MSFT/);
    expect(out).toMatch(/submitted\s+low\s+buy 10 AAPL/);
    expect(out).toMatch(/sell 1\/1 AAPL\s+filled @ 190\.1\s+\(exit-check-demo\)/);
    expect(out).toContain(
      "== seen: fires, a retry, a skip, an approved, an expired and a risk-rejected proposal, and direct exits",
    );
    expect(out).toContain("tradecron init ~/my-bot && cd ~/my-bot && tradecron start");
    expect(out).toMatch(/== demo done\n$/);
    // The service is gone with the demo.
    await expect(fetch(dashboard)).rejects.toThrow();
  });

  it("a second run finds the first run's data; --keep-running keeps serving until Ctrl-C, with a new token", async () => {
    const d = demo(["--seconds", "2", "--keep-running"]);
    await d.waitFor(/== found 4 schedules, \d+ executions and 3 approvals from earlier runs/);
    const [, token] = (await d.waitFor(/^sign-in token \(this run only\): (\S+)$/m)) as [string, string];
    expect(token).not.toBe(firstToken);
    const [, dashboard] = (await d.waitFor(
      /--keep-running: the service keeps running \(dashboard (\S+)\)/,
    )) as [string, string];
    await new Promise((r) => setTimeout(r, 500));
    expect(d.child.exitCode).toBeNull();
    expect((await signIn(dashboard, token)).session.status).toBe(201);
    expect((await signIn(dashboard, firstToken)).session.status).toBe(401); // the last run's token is dead
    d.child.kill("SIGINT");
    expect(await d.exited).toBe(0);
    await expect(fetch(dashboard)).rejects.toThrow();
  });
});
