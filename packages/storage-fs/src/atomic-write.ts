/**
 * Crash-safe whole-file writes: write a temp file in the same folder, fsync it, rename it over the
 * target, fsync the folder. After a crash the target holds either the old or the new content,
 * never a mix, and once the call resolves the new content survives power loss (the folder fsync
 * makes the rename itself durable, which a file fsync alone does not).
 *
 * We do not use write-file-atomic: it fsyncs the file but not the folder, so an acknowledged
 * rename can still vanish on power loss; the whole protocol is a few lines here.
 */

import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ioError, sysCode } from "./errors.js";
import { tempName } from "./layout.js";

interface DirSyncState {
  running: Promise<void> | null;
  next: Promise<void> | null;
}

const dirSyncs = new Map<string, DirSyncState>();

async function syncDirNow(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync and does not need it for rename durability.
  if (process.platform === "win32") return;
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Fsyncs a folder so that creates, renames and deletes in it survive power loss. Concurrent
 * callers share syncs: a caller waits for a sync that started after its call (one covering its
 * change), and every caller queued behind a running sync shares the next one: group commit for
 * folder entries.
 */
export function fsyncDir(dir: string): Promise<void> {
  let state = dirSyncs.get(dir);
  if (!state) {
    state = { running: null, next: null };
    dirSyncs.set(dir, state);
  }
  const s = state;
  const start = (): Promise<void> => {
    const p = syncDirNow(dir)
      .catch((error: unknown) => {
        throw ioError("fsync the folder", dir, error);
      })
      .finally(() => {
        if (s.running === p) s.running = null;
        if (!s.running && !s.next) dirSyncs.delete(dir);
      });
    s.running = p;
    return p;
  };
  if (!s.running) return start();
  if (!s.next) {
    const after = s.running.catch(() => {});
    s.next = after.then(() => {
      s.next = null;
      return start();
    });
  }
  return s.next;
}

/** Writes all of `data` to an open file, looping over short writes. */
export async function writeAll(
  fh: import("node:fs/promises").FileHandle,
  data: Uint8Array,
  position: number | null = null,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(
      data,
      done,
      data.length - done,
      position === null ? null : position + done,
    );
    done += bytesWritten;
  }
}

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Fsync the folder after the rename (default true). Callers batching several renames sync once. */
  syncDir?: boolean;
}

/** Replaces `path` with `data` atomically and durably (temp + fsync + rename + folder fsync). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, tempName(basename(path)));
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  try {
    const fh = await open(tmp, "w", 0o644);
    try {
      await writeAll(fh, bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw ioError("write", path, error);
  }
  if (options.syncDir !== false) await fsyncDir(dir);
}

/** Writes a new file (temp + fsync + rename) without syncing the folder: for batched commits. */
export async function writeFileSynced(path: string, data: Uint8Array): Promise<void> {
  await writeFileAtomic(path, data, { syncDir: false });
}

/** Deletes a file if it exists and makes the deletion durable. Returns whether it existed. */
export async function removeDurably(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (error) {
    if (sysCode(error) === "ENOENT") return false;
    throw ioError("delete", path, error);
  }
  await fsyncDir(dirname(path));
  return true;
}
