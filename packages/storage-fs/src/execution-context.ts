/**
 * What the parts of the execution store are given by the store that owns them: the context (the
 * quarantine, and how to stop the store) and the options. Its own module so that the parts
 * (execution-recovery.ts, execution-sealing.ts, execution-merging.ts) and their facade
 * (executions.ts) import these types from below instead of from each other.
 */

import type { Quarantine } from "./quarantine.js";

/** What the execution store needs from the store that owns it. */
export interface ExecutionContext {
  quarantine: Quarantine;
  /** Stops the whole store after a failed write; returns the error to throw. */
  fail(error: unknown): Error;
}

/** Options of the execution store (`ExecutionStore.open`). */
export interface ExecutionStoreOptions {
  /** Log lines after which the log is sealed into a segment. */
  segmentLines: number;
  /** Segments of one size tier merged into one (size-tiered compaction). */
  mergeFanIn: number;
  /** Merges read their sources into memory: larger ones are skipped (the segments stay apart). */
  mergeMaxBytes: number;
  /** Merges and compactions wait this long after the last prune (see FileStorageOptions.rewriteQuietMs). */
  rewriteQuietMs: number;
  /** Commit log batches on the main thread (see FileStorageOptions.inlineCommits). */
  inlineCommits: boolean;
}
