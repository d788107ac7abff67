/**
 * `@tradecron/storage-fs`: FileStorage, tradecron's durable storage in a plain folder of JSON and
 * JSON Lines files (atomic writes with fsync, group-committed logs, a single-writer lock,
 * quarantine of damaged files, a stored format version).
 *
 * @packageDocumentation
 */

export type { ExecutionStats } from "./executions.js";
export { FileStorage, type FileStorageOptions, type FileStorageStats } from "./file-storage.js";
export { FORMAT_NAME, FORMAT_VERSION } from "./format.js";
export type { QuarantineKind, QuarantineReport } from "./quarantine.js";
