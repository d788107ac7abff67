/**
 * Reading JSON Lines logs back after a crash. A line counts only when its `\n` made it to disk:
 * every append writes whole lines and is acknowledged after fsync, so an unterminated last line
 * (or a run of unreadable lines at the very end) is a write the crash cut short and nobody was
 * told succeeded: a torn tail. An unreadable line followed by good ones is something else, damage
 * or a foreign edit, and is reported as corruption.
 */

/** A line that parsed and passed the shape check. */
export interface GoodLine {
  /** 1-based line number in the file. */
  lineNo: number;
  value: unknown;
}

/** A line that did not parse or did not pass the shape check. */
export interface BadLine {
  lineNo: number;
  /** Byte range of the line (without its `\n`). */
  start: number;
  end: number;
  reason: string;
}

/** The outcome of reading one JSON Lines file. */
export interface ParsedLines {
  good: GoodLine[];
  /** Unreadable lines with good lines after them: corruption. */
  corrupt: BadLine[];
  /** Byte offset where the torn tail begins (= the file length when there is none). */
  tailStart: number;
  /** Why the tail is torn, when there is one. */
  tailReason: string | null;
}

/**
 * Splits `buf` into lines and parses each with JSON.parse, then `check` (null when the value is
 * acceptable, else the reason). Empty lines are skipped: they carry no data.
 */
export function parseJsonLines(buf: Buffer, check: (value: unknown) => string | null): ParsedLines {
  const good: GoodLine[] = [];
  const bad: BadLine[] = [];
  let pos = 0;
  let lineNo = 0;
  // Index in `bad` from which every bad line is part of the tail (no good line after it).
  let firstTrailingBad = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) break;
    lineNo++;
    const start = pos;
    pos = nl + 1;
    if (nl === start) continue;
    let reason: string | null;
    let value: unknown;
    try {
      value = JSON.parse(buf.toString("utf8", start, nl));
      reason = check(value);
    } catch (error) {
      reason = `not JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    if (reason === null) {
      good.push({ lineNo, value });
      // every bad line before this good one is corruption in the middle of the file
      firstTrailingBad = bad.length;
    } else {
      bad.push({ lineNo, start, end: nl, reason });
    }
  }
  const corrupt = bad.slice(0, firstTrailingBad);
  const trailing = bad.slice(firstTrailingBad);
  const unterminated = pos < buf.length;
  if (trailing.length === 0 && !unterminated) {
    return { good, corrupt, tailStart: buf.length, tailReason: null };
  }
  const tailStart = trailing.length > 0 ? (trailing[0] as BadLine).start : pos;
  const parts: string[] = [];
  if (trailing.length > 0) {
    parts.push(
      `${trailing.length} unreadable line(s) at the end from line ${(trailing[0] as BadLine).lineNo} (${(trailing[0] as BadLine).reason})`,
    );
  }
  if (unterminated) parts.push(`${buf.length - pos} byte(s) after the last newline`);
  return { good, corrupt, tailStart, tailReason: parts.join("; ") };
}
