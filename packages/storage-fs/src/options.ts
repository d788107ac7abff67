/**
 * The options of a FileStorage: what each means, their defaults and checks, and where quarantine
 * reports go when no `onQuarantine` is given. Bad options throw a ValidationError when the
 * FileStorage is constructed, before any file is touched.
 */

import { resolve } from "node:path";
import { type Logger, ValidationError } from "@tradecron/core";
import type { EngineOptions } from "./engine.js";
import { REWRITE_QUIET_MS } from "./execution-merging.js";
import type { QuarantineReport } from "./quarantine.js";

/** Options of {@link FileStorage}. */
export interface FileStorageOptions {
  /** The store folder. Created if missing; must be empty or a store already. */
  dir: string;
  /**
   * Execution log lines after which the log is sealed into an indexed segment (default 8,192).
   * Opening replays at most about this many lines; smaller values mean more, smaller segments.
   * A retention `del` line counts an eighth (it is a few dozen bytes and a lookup to replay).
   */
  segmentLines?: number;
  /** How many segments of one size tier are merged into one (default 8; 0 disables merging). */
  mergeFanIn?: number;
  /**
   * Merges read their sources into memory; a merge of more bytes than this is skipped and those
   * segments stay apart (default 64 MiB: about 150,000 executions).
   */
  mergeMaxBytes?: number;
  /**
   * Merges and compactions wait until retention has not pruned for this long (ms, default
   * 2,000; 0: they run at once). A retention pass deletes oldest first and empties whole
   * segments, which are then dropped without a rewrite; rewriting them while the pass goes on
   * copies rows it deletes next, and delayed fires. They never wait more than 30 s in all.
   */
  rewriteQuietMs?: number;
  /**
   * A lock whose owner cannot be checked from this process (another host or pid namespace) is
   * taken over after this long without a heartbeat (ms, default 30,000). A lock whose owner is on
   * this machine is taken over as soon as that process is gone.
   */
  staleLockMs?: number;
  /**
   * Commit each batch of log writes on the main thread (one write(2) with O_DSYNC, as
   * better-sqlite3 commits) instead of in Node's thread pool. A lone write then takes about half
   * the time on a fast disk (no thread-pool round trip), but the event loop waits for the disk
   * during every commit (~0.1-0.3 ms on SSD, milliseconds on slow or network disks). Default
   * false: commits never block the event loop, and concurrent writes still share one sync.
   */
  inlineCommits?: boolean;
  /** Receives every quarantined file or torn tail found while opening. */
  onQuarantine?: (report: QuarantineReport) => void;
  /** Logs quarantine reports (warn; torn tails at info) when `onQuarantine` is not given. */
  logger?: Logger;
}

/** Options checked, defaults filled in. */
export interface CheckedOptions {
  /** The store folder, resolved to an absolute path. */
  dir: string;
  /** The engine's settings (where reports go is chosen at open: {@link quarantineReporter}). */
  engine: Omit<EngineOptions, "report">;
}

function positiveInt(value: number | undefined, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new ValidationError(
      [{ field, code: "VALIDATION", message: `${field} must be an integer >= ${min}` }],
      { component: "storage-fs" },
    );
  }
  return value;
}

/** Checks `options` (throws a ValidationError naming the field) and fills in the defaults. */
export function checkOptions(options: FileStorageOptions): CheckedOptions {
  if (!options || typeof options.dir !== "string" || options.dir.length === 0) {
    throw new ValidationError([{ field: "dir", code: "VALIDATION", message: "dir must be a folder path" }], {
      component: "storage-fs",
    });
  }
  const dir = resolve(options.dir);
  return {
    dir,
    engine: {
      segmentLines: positiveInt(options.segmentLines, "segmentLines", 8192, 2),
      mergeFanIn: positiveInt(options.mergeFanIn, "mergeFanIn", 8, 0),
      mergeMaxBytes: positiveInt(options.mergeMaxBytes, "mergeMaxBytes", 64 * 1024 * 1024, 0),
      rewriteQuietMs: positiveInt(options.rewriteQuietMs, "rewriteQuietMs", REWRITE_QUIET_MS, 0),
      staleLockMs: positiveInt(options.staleLockMs, "staleLockMs", 30_000, 1000),
      inlineCommits: options.inlineCommits === true,
    },
  };
}

/**
 * Where quarantine reports go: `onQuarantine`, else the logger (torn tails, the normal trace of a
 * crash, at info), else process warnings (`TRADECRON_STORAGE_QUARANTINE`, torn tails left out).
 */
export function quarantineReporter(options: FileStorageOptions): (report: QuarantineReport) => void {
  return options.onQuarantine ?? defaultReport(options.logger);
}

function defaultReport(logger: Logger | undefined): (report: QuarantineReport) => void {
  return (report) => {
    const kept = report.movedTo ? ` (kept as ${report.movedTo})` : "";
    const message = `storage-fs: ${report.kind}: ${report.path}: ${report.reason}${kept}`;
    if (logger) {
      const fields = { path: report.path, movedTo: report.movedTo, kind: report.kind };
      if (report.kind === "torn-tail") logger.info(fields, message);
      else logger.warn(fields, message);
    } else if (report.kind !== "torn-tail") {
      process.emitWarning(message, { code: "TRADECRON_STORAGE_QUARANTINE" });
    }
  };
}
