/** Spawning the test's child processes and reading their JSON-lines stdout. */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { builtPackage } from "./helpers.js";

/** A running child and the JSON messages it printed. */
export interface Child {
  proc: ChildProcess;
  /** Resolves with the first message matching `pred` (rejects if the child exits first). */
  next(pred: (msg: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Every message so far. */
  messages: Array<Record<string, unknown>>;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(line: string): void;
}

/** Node's compile cache makes the children start in about half the time. */
const compileCache = join(tmpdir(), "tradecron-storage-fs-test-compile-cache");
mkdirSync(compileCache, { recursive: true });

/** Starts `fixtures/<name>` with the built package's URL followed by `args`. */
export function spawnFixture(name: string, args: string[]): Child {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const proc = spawn(process.execPath, [script, pathToFileURL(builtPackage()).href, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, NODE_COMPILE_CACHE: compileCache },
  });
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    pred: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }> = [];
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const failWaiters: Array<(e: Error) => void> = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const rl = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  rl.on("line", (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // a line cut by SIGKILL
    }
    messages.push(msg);
    for (const w of [...waiters]) {
      if (w.pred(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  });
  rl.on("close", () => {
    for (const fail of failWaiters)
      fail(new Error(`child ${name} exited (${JSON.stringify(exitInfo)}) first`));
  });
  return {
    proc,
    messages,
    exited,
    send: (line) => proc.stdin?.write(`${line}\n`),
    next(pred) {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        failWaiters.push(reject);
      });
    },
  };
}
