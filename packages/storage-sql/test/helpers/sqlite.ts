/** Temporary folders for SQLite files, removed after each test file. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A fresh temporary folder, removed when the test file ends. */
export function useTempDir(): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "tradecron-sqlite-"));
    dirs.push(dir);
    return dir;
  };
}
