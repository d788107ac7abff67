/**
 * The quarantine: where start-up puts what it cannot trust, so that one bad file never stops the
 * store and nothing disappears silently. A bad file is moved (or, for a log that is repaired in
 * place, copied) to `quarantine/`, a line saying what, from where and why is appended to
 * `quarantine/quarantine.jsonl`, and the report goes to the `onQuarantine` callback (or the
 * logger, or a process warning).
 */

import { copyFile, mkdir, open, rename, stat } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { fsyncDir, writeAll, writeFileAtomic } from "./atomic-write.js";
import { ioError, sysCode } from "./errors.js";
import { QUARANTINE_DIR, QUARANTINE_LOG } from "./layout.js";

/**
 * Why something was quarantined:
 * - `corrupt`: our file, damaged (unparseable, failing its checksum, wrong shape);
 * - `foreign`: a file that is not ours where only ours belong;
 * - `torn-tail`: the end of a log cut short by a crash (an unacknowledged write), kept as evidence;
 * - `missing`: a file the store expected and did not find (nothing could be kept).
 */
export type QuarantineKind = "corrupt" | "foreign" | "torn-tail" | "missing";

/** One quarantined item. */
export interface QuarantineReport {
  /** The file that was bad (absolute path). */
  path: string;
  /** Where its content was kept (absolute path), or null when there was nothing to keep. */
  movedTo: string | null;
  kind: QuarantineKind;
  /** What was wrong, for people. */
  reason: string;
  /** When (ISO 8601). */
  at: string;
}

/** Moves bad files into the store's quarantine folder and reports each one. */
export class Quarantine {
  /** Every report made since the store was opened. */
  readonly reports: QuarantineReport[] = [];
  private readonly dir: string;
  private ready = false;

  constructor(
    private readonly root: string,
    private readonly emit: (report: QuarantineReport) => void,
  ) {
    this.dir = join(root, QUARANTINE_DIR);
  }

  /** Moves `path` into the quarantine. */
  async moveFile(path: string, kind: QuarantineKind, reason: string): Promise<QuarantineReport> {
    const to = await this.target(path);
    try {
      await rename(path, to);
      await fsyncDir(this.dir);
    } catch (error) {
      throw ioError("quarantine", path, error);
    }
    return this.record(path, to, kind, reason);
  }

  /** Copies `path` into the quarantine (the caller then repairs the original in place). */
  async keepCopy(path: string, kind: QuarantineKind, reason: string): Promise<QuarantineReport> {
    const to = await this.target(path);
    try {
      await copyFile(path, to);
      const fh = await open(to, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsyncDir(this.dir);
    } catch (error) {
      throw ioError("quarantine a copy of", path, error);
    }
    return this.record(path, to, kind, reason);
  }

  /** Keeps `bytes` cut from `path` (a torn tail) in the quarantine. */
  async keepBytes(
    path: string,
    bytes: Uint8Array,
    kind: QuarantineKind,
    reason: string,
  ): Promise<QuarantineReport> {
    const to = await this.target(path, ".tail");
    await writeFileAtomic(to, bytes);
    return this.record(path, to, kind, reason);
  }

  /** Reports a problem with nothing to keep (a missing file). */
  async note(path: string, kind: QuarantineKind, reason: string): Promise<QuarantineReport> {
    await this.ensureDir();
    return this.record(path, null, kind, reason);
  }

  private async ensureDir(): Promise<void> {
    if (this.ready) return;
    try {
      await mkdir(this.dir, { recursive: true });
      await fsyncDir(this.root);
    } catch (error) {
      throw ioError("create", this.dir, error);
    }
    this.ready = true;
  }

  /** A fresh name in the quarantine: `<time>_<path relative to the store, / as __>`. */
  private async target(path: string, suffix = ""): Promise<string> {
    await this.ensureDir();
    const stamp = new Date().toISOString().replace(/[-:]/g, "");
    const rel = relative(this.root, path).split(sep).join("__") || basename(path);
    for (let n = 0; ; n++) {
      const name = `${stamp}_${rel}${suffix}${n === 0 ? "" : `.${n}`}`;
      const candidate = join(this.dir, name);
      try {
        await stat(candidate);
      } catch (error) {
        if (sysCode(error) === "ENOENT") return candidate;
        throw ioError("inspect", candidate, error);
      }
    }
  }

  private async record(
    path: string,
    movedTo: string | null,
    kind: QuarantineKind,
    reason: string,
  ): Promise<QuarantineReport> {
    const report: QuarantineReport = { path, movedTo, kind, reason, at: new Date().toISOString() };
    const line = `${JSON.stringify({
      at: report.at,
      kind,
      path: relative(this.root, path),
      movedTo: movedTo === null ? null : relative(this.root, movedTo),
      reason,
    })}\n`;
    const logPath = join(this.dir, QUARANTINE_LOG);
    try {
      const fh = await open(logPath, "a", 0o644);
      try {
        await writeAll(fh, Buffer.from(line, "utf8"));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsyncDir(this.dir);
    } catch (error) {
      throw ioError("append to", logPath, error);
    }
    this.reports.push(report);
    try {
      this.emit(report);
    } catch {
      // a throwing report callback must not stop the store from opening
    }
    return report;
  }
}
