/**
 * Typed errors of FileStorage. Every failure is a core {@link StorageError} whose message starts
 * with `storage-fs:` and names the file or folder involved, and whose `details.path` carries it.
 */

import { StorageError } from "@tradecron/core";

/** The storage error codes FileStorage raises. */
export type FileStorageErrorCode = "STORAGE" | "STORAGE_CORRUPT" | "STORAGE_LOCKED" | "STORAGE_VERSION";

/** Builds a StorageError whose message names `path`. */
export function storageError(
  code: FileStorageErrorCode,
  message: string,
  path: string,
  cause?: unknown,
  details: Record<string, unknown> = {},
): StorageError {
  return new StorageError(code, `storage-fs: ${message}`, { cause, details: { path, ...details } });
}

/** Wraps a file-system failure (ENOSPC, EACCES, EIO, ...) in a StorageError naming the path. */
export function ioError(action: string, path: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return storageError("STORAGE", `cannot ${action} ${path}: ${reason}`, path, cause);
}

/** The errno-style code of a Node.js system error, if any. */
export function sysCode(error: unknown): string | undefined {
  if (error && typeof error === "object" && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
