/**
 * Child processes for the multi-process tests. Children run test/fixtures/*.mjs against the BUILT
 * packages, so the tests check first that the builds exist and are not older than the sources.
 */

import { type ChildProcess, fork } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));
const coreDir = join(packageDir, "..", "core");

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Throws a clear error unless `@tradecron/core` and this package are built (and this package's
 * build is newer than its sources). The root `npm test` builds everything first; by hand:
 * `cd packages/core && npx tsup && cd ../storage-sql && npx tsup`.
 */
export function requireBuilt(): void {
  const how = "build first: cd packages/core && npx tsup && cd ../storage-sql && npx tsup";
  for (const [name, dir] of [
    ["@tradecron/core", coreDir],
    ["@tradecron/storage-sql", packageDir],
  ] as const) {
    if (!existsSync(join(dir, "dist", "index.js"))) {
      throw new Error(
        `${name} is not built (${join(dir, "dist")} is missing); child processes need it. ${how}`,
      );
    }
  }
  const built = statSync(join(packageDir, "dist", "index.js")).mtimeMs;
  if (newestIn(join(packageDir, "src")) > built) {
    throw new Error(
      `@tradecron/storage-sql's dist is older than its src: child processes would run stale code. ${how}`,
    );
  }
}

/** A message a child sent. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/** A child process and the messages it sent. */
export class Child {
  readonly messages: ChildMessage[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on("message", (msg: ChildMessage) => {
      this.messages.push(msg);
      for (const w of [...this.waiters]) w();
    });
    this.exited = new Promise((resolve) => process.on("exit", (code) => resolve(code)));
  }

  /** Messages of one type. */
  of(type: string): ChildMessage[] {
    return this.messages.filter((m) => m.type === type);
  }

  /** Resolves with the first message of `type` (already received or next), or rejects after `timeoutMs`. */
  waitFor(type: string, timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find((m) => m.type === type);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no '${type}' message within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(onMessage);
      };
      const onMessage = () => {
        check();
      };
      if (check()) return;
      this.waiters.add(onMessage);
      void this.exited.then(() => {
        if (this.waiters.has(onMessage) && !check()) {
          cleanup();
          reject(new Error(`${this.name} exited before sending '${type}'`));
        }
      });
    });
  }

  /** Sends a message to the child. */
  send(message: ChildMessage): void {
    this.process.send(message);
  }
}

/** Forks `fixture` (a file in test/fixtures) with `config` as JSON in TC_CHILD. */
export function spawnChild(name: string, fixture: string, config: Record<string, unknown>): Child {
  const proc = fork(join(packageDir, "test", "fixtures", fixture), [], {
    cwd: packageDir,
    env: { ...process.env, TC_CHILD: JSON.stringify(config) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Child(name, proc);
}

/** Polls `condition` every `everyMs` until it is true; rejects with `message` after `timeoutMs`. */
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
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
