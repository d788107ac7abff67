/**
 * The status file is valid JSON at every instant: a reader in another process reads it in a tight
 * loop while the writer rewrites it as fast as it can. The same reader catches a naive writer
 * (writeFile in place) tearing the file, which shows the reader can fail.
 */

import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { silentLogger } from "@tradecron/core";
import { afterAll, describe, expect, it } from "vitest";
import { StatusFile } from "../src/service/status-file.js";
import { cleanWork, workDir } from "./helpers.js";

const dir = workDir();
afterAll(() => cleanWork(dir));

/** A snapshot big enough (~200 KB) that a write takes several syscalls. */
function snapshot(n: number) {
  const jobs: Record<string, unknown> = {};
  for (let i = 0; i < 800; i++)
    jobs[`schedule-${i}`] = { last_start: new Date(n).toISOString(), status: "succeeded", n };
  return { written: n, jobs };
}

const READER = `
const { readFileSync } = require("node:fs");
const [path, ms] = process.argv.slice(1);
let reads = 0, torn = 0, missing = 0;
const end = Date.now() + Number(ms);
while (Date.now() < end) {
  let text;
  try { text = readFileSync(path, "utf8"); } catch { missing++; continue; }
  reads++;
  try { JSON.parse(text); } catch { torn++; }
}
process.stdout.write(JSON.stringify({ reads, torn, missing }));
`;

function hammer(path: string, ms: number): Promise<{ reads: number; torn: number; missing: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", READER, path, String(ms)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("exit", () => {
      try {
        resolve(JSON.parse(out));
      } catch (error) {
        reject(error);
      }
    });
  });
}

async function writeFor(ms: number, write: (n: number) => Promise<void>): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) await write(n++);
  return n;
}

describe("status file", () => {
  it("is never torn: a reader hammering it always parses it", async () => {
    const path = join(dir, "status.json");
    let n = 0;
    const file = new StatusFile(path, async () => snapshot(n), silentLogger, 60_000);
    await file.start();
    const reader = hammer(path, 1500);
    const writes = await writeFor(1600, async () => {
      n++;
      file.request();
      await (file as unknown as { writing: Promise<void> }).writing;
    });
    await file.stop();
    const result = await reader;
    expect(writes).toBeGreaterThan(20);
    expect(result.reads).toBeGreaterThan(50);
    expect(result).toMatchObject({ torn: 0, missing: 0 });
  });

  it("(control) the same reader sees a naive in-place writer tear the file", async () => {
    const path = join(dir, "naive.json");
    await writeFile(path, JSON.stringify(snapshot(0)));
    const reader = hammer(path, 1500);
    await writeFor(1600, (n) => writeFile(path, JSON.stringify(snapshot(n))));
    const result = await reader;
    expect(result.torn).toBeGreaterThan(0);
  });
});
