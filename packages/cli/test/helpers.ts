/**
 * Test helpers: the real `tradecron` binary spawned as a process (dist/bin.js, checked to be newer
 * than the sources), work folders inside the package (so configs can import @tradecron/*), and a
 * PostgreSQL schema per test.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { ConfigError } from "../src/errors.js";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));
export const BIN = join(packageDir, "dist", "bin.js");

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Throws unless dist/bin.js exists and is newer than src (the tests run the built binary). */
export function requireBuilt(): void {
  const how = "build first: pnpm --filter @tradecron/core --filter @tradecron/cli build (npm test does)";
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing; ${how}`);
  if (newestIn(join(packageDir, "src")) > statSync(BIN).mtimeMs) {
    throw new Error(`${BIN} is older than src/: the tests would run stale code; ${how}`);
  }
}

/** A fresh folder under test/.work (git-ignored), removed by {@link cleanWork}. */
export function workDir(): string {
  const dir = join(packageDir, "test", ".work", randomBytes(5).toString("hex"));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes a work folder. */
export function cleanWork(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `text` to `dir/name` and returns the path. */
export function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The environment for a spawned binary: this one, without the test's own TRADECRON_* settings. */
function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(TRADECRON_|SCHEDULER_|DATABASE_URL$|LOG_LEVEL$)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** What a finished command printed and returned. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `tradecron <args>` to its end. */
export function tradecron(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: childEnv(options.env ?? {}),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tradecron ${args.join(" ")} did not finish in time\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One JSON log line of the service. */
export type LogLine = Record<string, unknown> & { msg?: string; event?: string };

/** Matches core's line of a run that started: `fired <id> (<kind>, attempt <n>)`. */
export const fired =
  (scheduleId?: string) =>
  (l: LogLine): boolean =>
    typeof l.executionId === "string" &&
    typeof l.msg === "string" &&
    l.msg.startsWith("fired ") &&
    (scheduleId === undefined || l.scheduleId === scheduleId);

/** Matches core's line of a run that succeeded: `<id> succeeded in <n> ms`. */
export const succeeded =
  (scheduleId?: string) =>
  (l: LogLine): boolean =>
    typeof l.executionId === "string" &&
    typeof l.msg === "string" &&
    / succeeded in \d+ ms$/.test(l.msg) &&
    (scheduleId === undefined || l.scheduleId === scheduleId);

/** A running `tradecron start`. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();
  private buffer = "";

  constructor(readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => {
      this.buffer += d.toString();
      const lines = this.buffer.split("\n");
      this.buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line, unparsed: true });
        }
      }
      for (const w of [...this.waiters]) w();
    });
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of [...this.waiters]) w();
    });
  }

  /** Log lines of one event. */
  events(event: string): LogLine[] {
    return this.logs.filter((l) => l.event === event);
  }

  /** Resolves with the first log line matching `match` (seen already or next). */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 15_000, what = "a log line"): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(match);
        if (found) {
          done();
          resolve(found);
        }
        return found;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms; logs:\n${this.logs.map((l) => JSON.stringify(l)).join("\n")}\n${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const listener = () => {
        if (check()) return;
        if (this.child.exitCode !== null) {
          done();
          reject(new Error(`the service exited (${this.child.exitCode}) before ${what}\n${this.stderr}`));
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(listener);
      };
      if (check()) return;
      this.waiters.add(listener);
    });
  }

  /** Waits for `service:started` and returns the HTTP port (null when off). */
  async started(timeoutMs = 15_000): Promise<number | null> {
    const line = await this.waitFor((l) => l.event === "service:started", timeoutMs, "service:started");
    return (line.httpPort as number | null) ?? null;
  }

  /** Core's log lines of runs that started (`fired <id> (...)`), of one schedule or all. */
  fired(scheduleId?: string): LogLine[] {
    return this.logs.filter(fired(scheduleId));
  }

  /** Sends `signal` and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

const running = new Set<ServiceProcess>();

/** Kills every service a test started and did not stop (a failed assertion must not leak processes). */
export async function killServices(): Promise<void> {
  const left = [...running];
  running.clear();
  await Promise.all(left.map((s) => s.stop("SIGKILL")));
}

/** Spawns `tradecron start <args>`; {@link killServices} (run after each test) ends it if the test did not. */
export function startService(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): ServiceProcess {
  const child = spawn(process.execPath, [BIN, "start", ...args], {
    cwd: options.cwd,
    env: childEnv(options.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const service = new ServiceProcess(child);
  running.add(service);
  void service.exited.then(() => running.delete(service));
  return service;
}

/** Polls `condition` until it holds; rejects with `message` after `timeoutMs`. */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  message: string,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The PostgreSQL the tests use (TRADECRON_TEST_PG, default the local server's `test` database). */
export const PG_URL = process.env.TRADECRON_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

let admin: pg.Pool | null = null;

/** A small pool to inspect and drop test schemas. */
export function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: PG_URL, max: 2, application_name: "tradecron-cli-test" });
  return admin;
}

/** A fresh schema name (the storage creates it). */
export function uniqueSchema(): string {
  return `tc_cli_${randomBytes(6).toString("hex")}`;
}

/** Drops a test schema. */
export async function dropSchema(schema: string): Promise<void> {
  await adminPool().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Fails the file's tests with a clear message when PostgreSQL is not reachable; closes the pool after. */
export function usePostgres(): void {
  beforeAll(async () => {
    try {
      await adminPool().query("SELECT 1");
    } catch (error) {
      throw new Error(
        `PostgreSQL is not reachable at ${PG_URL}: these tests need a real server (CI starts one)`,
        {
          cause: error,
        },
      );
    }
  });
  afterAll(async () => {
    const pool = admin;
    admin = null;
    await pool?.end();
  });
}

/** The `field: message` of every issue of the ConfigError `fn` throws (none when it does not throw). */
export function configIssues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}
