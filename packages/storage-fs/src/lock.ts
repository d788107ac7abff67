/**
 * The single-writer lock: one process at a time may open a store folder. The lock is the file
 * `LOCK`, holding its owner (pid, host, kernel boot id, pid namespace, process start time, a
 * random token, since when). A second process gets `STORAGE_LOCKED` at once, with the owner in
 * the message. A lock whose owner is provably dead is taken over at once; one whose owner cannot
 * be checked (another host, another pid namespace) is taken over when its heartbeat is stale.
 *
 * Why not proper-lockfile: its staleness is time-only (the holder touches an mtime; a lock is
 * stale `stale` ms, at least 2 s, after the last touch). That makes a restart after kill -9 wait
 * for the timeout, hands the store to a second writer whenever the holder is merely frozen for
 * longer than `stale` (a long GC, a suspended VM), cannot say who holds the lock, and its stale
 * removal (rmdir then mkdir) lets two racing takers both succeed. Here:
 *
 * - acquire is `link(temp, LOCK)`: atomic, fails if LOCK exists, and the owner record is complete
 *   the moment the lock exists (no empty lock file after a crash);
 * - "dead" is decided from the process table when the owner shares our kernel boot and pid
 *   namespace: its pid is gone, or now belongs to a process with another start time (pid reuse);
 * - takeover is serialised by a second file, `LOCK.takeover`, created with O_EXCL; its holder
 *   re-reads LOCK, checks it is still the dead owner's, and renames its own record over it
 *   (atomic replace), so two takers can never both win;
 * - a heartbeat refreshes LOCK's mtime (for hosts that cannot check our pid) and checks the token
 *   is still ours; if not, the store stops writing (`onCompromised`).
 */

import { readFileSync, readlinkSync } from "node:fs";
import { link, open, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { fsyncDir, writeAll } from "./atomic-write.js";
import { ioError, storageError, sysCode } from "./errors.js";
import { LOCK_FILE, tempName } from "./layout.js";

/** The owner record stored in `LOCK`. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** Linux kernel boot id: a pid is only meaningful within one boot. */
  bootId: string | null;
  /** The pid namespace (`/proc/self/ns/pid`): a pid is only meaningful within one namespace. */
  pidNamespace: string | null;
  /** The process start time in clock ticks since boot (`/proc/<pid>/stat` field 22): detects pid reuse. */
  startTime: string | null;
  /** Random; identifies this acquisition. */
  token: string;
  acquiredAt: string;
}

/** Options of {@link StoreLock.acquire}. */
export interface LockOptions {
  /** A lock whose owner cannot be checked is stale after this long without a heartbeat (ms). */
  staleMs: number;
  /** Called if the lock is lost while held (deleted, or taken over after a missed heartbeat). */
  onCompromised: (error: Error) => void;
}

function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** The start time of process `pid` (clock ticks since boot), or null if it does not exist or /proc is absent. */
function startTimeOf(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // Field 2 (comm) may contain spaces and parentheses; the fields after its last ')' are safe.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null;
}

const HAS_PROC = readProc("/proc/self/stat") !== null;

function identity(): Omit<LockOwner, "token" | "acquiredAt"> {
  let pidNamespace: string | null = null;
  try {
    pidNamespace = readlinkSync("/proc/self/ns/pid");
  } catch {
    pidNamespace = null;
  }
  return {
    pid: process.pid,
    hostname: hostname(),
    bootId: readProc("/proc/sys/kernel/random/boot_id")?.trim() ?? null,
    pidNamespace,
    startTime: startTimeOf(process.pid),
  };
}

const HELD_KEY = Symbol.for("@tradecron/storage-fs/held-lock-tokens");
const globals = globalThis as Record<symbol, unknown>;
if (!(globals[HELD_KEY] instanceof Set)) globals[HELD_KEY] = new Set<string>();
/**
 * Tokens of the locks this process holds right now, shared by every copy of this package loaded
 * in the process (ESM and CJS builds), so a second copy recognises the lock as this process's.
 */
const heldTokens = globals[HELD_KEY] as Set<string>;

/** Whether the owner of a lock is running: `alive`, `dead`, `self` (this process) or `unknown`. */
export type OwnerState = "alive" | "dead" | "self" | "unknown";

/** Decides whether `owner` is running, from the process table where that is meaningful. */
export function ownerState(owner: LockOwner): OwnerState {
  if (heldTokens.has(owner.token)) return "self";
  const me = identity();
  const samePidSpace =
    owner.bootId !== null &&
    owner.bootId === me.bootId &&
    owner.pidNamespace !== null &&
    owner.pidNamespace === me.pidNamespace;
  if (samePidSpace) {
    // Same process, but not a lock it holds now: an earlier open that was never closed.
    if (owner.pid === process.pid && owner.startTime === me.startTime) return "dead";
    const started = startTimeOf(owner.pid);
    if (started === null) return "dead";
    if (owner.startTime !== null && started !== owner.startTime) return "dead";
    return "alive";
  }
  if (!HAS_PROC && me.bootId === null && owner.bootId === null && owner.hostname === me.hostname) {
    // No /proc (macOS): signal 0 tells whether the pid exists; pid reuse reads as alive (safe side).
    if (owner.pid === process.pid) return "dead";
    try {
      process.kill(owner.pid, 0);
      return "alive";
    } catch (error) {
      return sysCode(error) === "ESRCH" ? "dead" : "alive";
    }
  }
  return "unknown";
}

interface ReadLock {
  owner: LockOwner | null;
  raw: string;
  ageMs: number;
}

async function readLock(path: string): Promise<ReadLock | null> {
  try {
    const [raw, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    let owner: LockOwner | null = null;
    try {
      const v = JSON.parse(raw) as Partial<LockOwner>;
      if (v && typeof v.pid === "number" && typeof v.token === "string" && typeof v.hostname === "string") {
        owner = {
          pid: v.pid,
          hostname: v.hostname,
          bootId: v.bootId ?? null,
          pidNamespace: v.pidNamespace ?? null,
          startTime: v.startTime ?? null,
          token: v.token,
          acquiredAt: String(v.acquiredAt ?? ""),
        };
      }
    } catch {
      owner = null;
    }
    return { owner, raw, ageMs: Date.now() - st.mtimeMs };
  } catch (error) {
    if (sysCode(error) === "ENOENT") return null;
    throw ioError("read the lock", path, error);
  }
}

type Judgement = { held: true; state: OwnerState | "unreadable" } | { held: false };

function judge(lock: ReadLock, staleMs: number): Judgement {
  if (!lock.owner) return lock.ageMs > staleMs ? { held: false } : { held: true, state: "unreadable" };
  const state = ownerState(lock.owner);
  if (state === "dead") return { held: false };
  if (state === "unknown" && lock.ageMs > staleMs) return { held: false };
  return { held: true, state };
}

function lockedError(
  dir: string,
  path: string,
  lock: ReadLock,
  state: OwnerState | "unreadable",
  staleMs: number,
) {
  const o = lock.owner;
  if (state === "self") {
    return storageError(
      "STORAGE_LOCKED",
      `${dir} is already open in this process by another copy of @tradecron/storage-fs (lock file ${path}); open one FileStorage per folder, or load the package once`,
      path,
      undefined,
      { pid: o?.pid },
    );
  }
  const who = o
    ? `process ${o.pid} on host "${o.hostname}" (since ${o.acquiredAt})`
    : "a process whose lock record is unreadable";
  const when =
    state === "alive"
      ? "that process is running"
      : `it is taken over automatically once its heartbeat is older than ${staleMs} ms`;
  return storageError(
    "STORAGE_LOCKED",
    `${dir} is locked by ${who}: one process at a time may open a store, and ${when} (lock file ${path})`,
    path,
    undefined,
    o ? { pid: o.pid, hostname: o.hostname, acquiredAt: o.acquiredAt } : {},
  );
}

/** A held single-writer lock on a store folder. */
export class StoreLock {
  private timer: NodeJS.Timeout | null = null;
  private released = false;
  private lastBeat = Date.now();

  private constructor(
    private readonly dir: string,
    private readonly path: string,
    /** The owner record this process wrote. */
    readonly owner: LockOwner,
    private readonly options: LockOptions,
  ) {
    heldTokens.add(owner.token);
    const every = Math.max(250, Math.floor(options.staleMs / 3));
    this.timer = setInterval(() => void this.beat(), every);
    // The heartbeat must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  /** Takes the lock of `dir`, or throws `STORAGE_LOCKED` naming the holder. */
  static async acquire(dir: string, options: LockOptions): Promise<StoreLock> {
    const path = join(dir, LOCK_FILE);
    const owner: LockOwner = {
      ...identity(),
      token: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`,
      acquiredAt: new Date().toISOString(),
    };
    const tmp = join(dir, tempName(LOCK_FILE));
    await writeSynced(tmp, `${JSON.stringify(owner, null, 2)}\n`);
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await link(tmp, path);
          await fsyncDir(dir);
          return new StoreLock(dir, path, owner, options);
        } catch (error) {
          if (sysCode(error) !== "EEXIST") throw ioError("create the lock", path, error);
        }
        const current = await readLock(path);
        if (!current) continue; // released meanwhile: try again
        const verdict = judge(current, options.staleMs);
        if (verdict.held) throw lockedError(dir, path, current, verdict.state, options.staleMs);
        if (await takeOver(dir, path, tmp, current, options.staleMs)) {
          return new StoreLock(dir, path, owner, options);
        }
      }
      throw storageError(
        "STORAGE_LOCKED",
        `${dir}: could not take the lock ${path}: it kept changing hands`,
        path,
      );
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  /** Stops the heartbeat and deletes LOCK if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    heldTokens.delete(this.owner.token);
    const current = await readLock(this.path).catch(() => null);
    if (current?.owner?.token !== this.owner.token) return;
    try {
      await unlink(this.path);
      await fsyncDir(this.dir);
    } catch (error) {
      if (sysCode(error) !== "ENOENT") throw ioError("release the lock", this.path, error);
    }
  }

  private async beat(): Promise<void> {
    if (this.released) return;
    try {
      const current = await readLock(this.path);
      if (this.released) return;
      if (current?.owner?.token !== this.owner.token) {
        this.compromised(
          current
            ? `the lock ${this.path} now belongs to process ${current.owner?.pid ?? "?"} on "${current.owner?.hostname ?? "?"}"`
            : `the lock ${this.path} was deleted`,
        );
        return;
      }
      const now = new Date();
      await utimes(this.path, now, now);
      this.lastBeat = Date.now();
    } catch (error) {
      if (Date.now() - this.lastBeat > this.options.staleMs) {
        this.compromised(
          `the lock ${this.path} could not be refreshed for ${this.options.staleMs} ms (${String(error)})`,
        );
      }
    }
  }

  private compromised(why: string): void {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    heldTokens.delete(this.owner.token);
    this.options.onCompromised(
      storageError(
        "STORAGE_LOCKED",
        `${this.dir}: this process lost the single-writer lock (${why}); it stopped writing`,
        this.path,
      ),
    );
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  try {
    const fh = await open(path, "wx", 0o644);
    try {
      await writeAll(fh, Buffer.from(text, "utf8"));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (error) {
    throw ioError("write", path, error);
  }
}

/** A takeover mutex older than this with an unreadable or unknown owner is abandoned. */
const TAKEOVER_STALE_MS = 10_000;

/**
 * Replaces the stale lock `judged` with our record (already in `tmp`). Returns false when the
 * lock changed hands meanwhile (the caller judges the new owner); throws STORAGE_LOCKED when
 * another process is taking over right now.
 */
async function takeOver(
  dir: string,
  path: string,
  tmp: string,
  judged: ReadLock,
  staleMs: number,
): Promise<boolean> {
  const mutex = `${path}.takeover`;
  const me: LockOwner = {
    ...identity(),
    token: `takeover-${Math.random().toString(36).slice(2, 12)}`,
    acquiredAt: new Date().toISOString(),
  };
  try {
    await writeSynced(mutex, JSON.stringify(me));
  } catch (error) {
    if (sysCode((error as { cause?: unknown }).cause) !== "EEXIST") throw error;
    const other = await readLock(mutex);
    if (!other) return false;
    const verdict = judge(other, Math.min(staleMs, TAKEOVER_STALE_MS));
    if (verdict.held) {
      throw storageError(
        "STORAGE_LOCKED",
        `${dir}: another process is taking over the stale lock ${path} right now`,
        path,
      );
    }
    // The mutex holder died mid-takeover. Move it aside, and put it back if what we moved is
    // not the one we judged (someone replaced it in between).
    const aside = `${mutex}.${me.token}.stale`;
    try {
      await rename(mutex, aside);
    } catch (e) {
      if (sysCode(e) === "ENOENT") return false;
      throw ioError("clear the takeover mutex", mutex, e);
    }
    const moved = await readLock(aside);
    if (moved?.raw !== other.raw) await link(aside, mutex).catch(() => {});
    await unlink(aside).catch(() => {});
    return false;
  }
  try {
    const again = await readLock(path);
    if (!again || again.raw !== judged.raw) return false;
    // Only a mutex holder replaces LOCK and the judged owner is dead, so LOCK cannot change
    // under us: an atomic rename hands it over.
    await rename(tmp, path);
    await fsyncDir(dir);
    return true;
  } finally {
    await unlink(mutex).catch(() => {});
  }
}
