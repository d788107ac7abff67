/**
 * Opening a JSON Lines log after whatever happened to it: a torn tail (a crash mid-append, never
 * acknowledged) is cut off and kept in the quarantine as evidence; damaged lines in the middle are
 * reported, the original file is copied to the quarantine and the log is rewritten with every
 * good line. Start-up then goes on with the good lines.
 */

import { open, readFile, truncate } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";
import { ioError, sysCode } from "./errors.js";
import { parseJsonLines } from "./jsonl.js";
import type { Quarantine } from "./quarantine.js";

/** The readable lines of a log. */
export interface RecoveredLog {
  values: unknown[];
  /** Lines now in the file. */
  lines: number;
}

/** Reads, repairs if needed, and returns the lines of the log at `path` (null if it does not exist). */
export async function recoverLog(
  path: string,
  quarantine: Quarantine,
  check: (value: unknown) => string | null,
): Promise<RecoveredLog | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (error) {
    if (sysCode(error) === "ENOENT") return null;
    throw ioError("read", path, error);
  }
  const parsed = parseJsonLines(buf, check);
  const values = parsed.good.map((g) => g.value);
  if (parsed.corrupt.length > 0) {
    const lines = parsed.corrupt.map((b) => `line ${b.lineNo}: ${b.reason}`);
    if (parsed.tailReason) lines.push(parsed.tailReason);
    await quarantine.keepCopy(path, "corrupt", `${lines.join("; ")}; the log was rewritten without them`);
    await writeFileAtomic(path, values.map((v) => `${JSON.stringify(v)}\n`).join(""));
  } else if (parsed.tailReason !== null) {
    await quarantine.keepBytes(
      path,
      buf.subarray(parsed.tailStart),
      "torn-tail",
      `${parsed.tailReason}: a write cut short by a crash (never acknowledged); the log was truncated at byte ${parsed.tailStart}`,
    );
    try {
      await truncate(path, parsed.tailStart);
      const fh = await open(path, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (error) {
      throw ioError("truncate", path, error);
    }
  }
  return { values, lines: values.length };
}
