/** Shared set-up for the FileStorage tests: temp folders on the real disk, and the built package. */

import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** A fresh folder under the OS temp dir, and its removal. */
export async function tempDir(prefix = "tc-fs-"): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file under `dir`, relative, sorted. */
export async function listFiles(dir: string, base = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

const packageRoot = fileURLToPath(new URL("..", import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (!name.endsWith(".test.ts")) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/**
 * The built package, for child processes (they cannot import TypeScript). Throws a clear error
 * when it is missing or older than the sources, instead of testing stale code.
 */
export function builtPackage(): string {
  const dist = join(packageRoot, "dist", "index.js");
  if (!existsSync(dist)) {
    throw new Error(`${dist} is missing: build the package first (cd packages/storage-fs && npx tsup)`);
  }
  if (newestSource(join(packageRoot, "src")) > statSync(dist).mtimeMs) {
    throw new Error(`${dist} is older than src/: rebuild it (cd packages/storage-fs && npx tsup)`);
  }
  return dist;
}
