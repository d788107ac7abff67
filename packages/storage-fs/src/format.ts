/**
 * The stored format version. `tradecron-store.json` names the format and its version; a store
 * written by a newer release (a higher version) is refused with `STORAGE_VERSION` rather than
 * read wrongly, and a folder that is neither empty nor a store is refused rather than written
 * into (pointing `dir` at the wrong folder must never move someone's files to quarantine).
 */

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";
import { ioError, storageError, sysCode } from "./errors.js";
import { isTempName, LOCK_FILE, MANIFEST_FILE } from "./layout.js";

/** The format name in the manifest. */
export const FORMAT_NAME = "@tradecron/storage-fs";

/**
 * The format version this release writes and the highest it reads. Bump it (and add a migration
 * from the previous version) whenever a file written by the new code could be misread by the old.
 */
export const FORMAT_VERSION = 1;

/** The content of `tradecron-store.json`. */
export interface StoreManifest {
  format: string;
  version: number;
  createdAt: string;
}

/** Names that may exist in a folder before its manifest (our own lock and temp files). */
function isOwnBootstrapName(name: string): boolean {
  return name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`) || isTempName(name);
}

/**
 * Reads the manifest of the store in `dir`, creating it if the folder is new. Throws
 * `STORAGE_VERSION` for a newer format, `STORAGE_CORRUPT` for an unreadable manifest and
 * `STORAGE` for a non-empty folder that is not a store.
 */
export async function openManifest(dir: string): Promise<StoreManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string | null = null;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (sysCode(error) !== "ENOENT") throw ioError("read", path, error);
  }
  if (text === null) return createManifest(dir, path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw storageError(
      "STORAGE_CORRUPT",
      `${path} is not valid JSON, so the store's format version is unknown: refusing to open it (restore the file or inspect the folder)`,
      path,
      error,
    );
  }
  const m = value as Partial<StoreManifest> | null;
  if (!m || typeof m !== "object" || m.format !== FORMAT_NAME || !Number.isInteger(m.version)) {
    throw storageError(
      "STORAGE_CORRUPT",
      `${path} is not a ${FORMAT_NAME} manifest (expected {"format":"${FORMAT_NAME}","version":N}): refusing to open the folder`,
      path,
    );
  }
  const version = m.version as number;
  if (version > FORMAT_VERSION) {
    throw storageError(
      "STORAGE_VERSION",
      `${dir} was written in format version ${version} (${path}); this release of ${FORMAT_NAME} reads versions up to ${FORMAT_VERSION}: upgrade ${FORMAT_NAME} to open it`,
      path,
      undefined,
      { version, supported: FORMAT_VERSION },
    );
  }
  if (version < 1) {
    throw storageError("STORAGE_CORRUPT", `${path} has an invalid format version ${version}`, path);
  }
  return { format: FORMAT_NAME, version, createdAt: String(m.createdAt ?? "") };
}

async function createManifest(dir: string, path: string): Promise<StoreManifest> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw ioError("list", dir, error);
  }
  const foreign = names.filter((n) => !isOwnBootstrapName(n));
  if (foreign.length > 0) {
    throw storageError(
      "STORAGE",
      `${dir} is not empty and has no ${MANIFEST_FILE}, so it is not a tradecron store (found ${foreign
        .slice(0, 3)
        .join(
          ", ",
        )}${foreign.length > 3 ? ", ..." : ""}): refusing to write into it; use an empty or new folder`,
      dir,
    );
  }
  const manifest: StoreManifest = {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
  };
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
