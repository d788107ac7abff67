/**
 * The on-disk layout of a store folder, in one place. Everything a person may want to read is a
 * JSON file or a JSON Lines file:
 *
 * ```
 * <dir>/
 *   tradecron-store.json   format name and version (written once, when the store is created)
 *   LOCK                   owner of the single-writer lock (pid, host, since) while a process has it open
 *   control.json           the emergency switch
 *   schedules/<id>.json    one pretty-printed file per schedule
 *   schedule-batch-*.json  a batch insert in flight (ids, revisions), gone once it is durable
 *   executions/            log-<n>.jsonl (recent changes), seg-<n>.jsonl + seg-<n>.idx (sealed), checkpoint.json,
 *                          schedule-state.json (schedule states as of the last seal)
 *   approvals.jsonl        change log of approvals (compacted when mostly superseded)
 *   orders.jsonl           change log of orders (same)
 *   audit.jsonl            the audit log, one entry per line
 *   quarantine/            files (or torn bytes) set aside at start-up, with quarantine.jsonl saying why
 * ```
 */

import { join } from "node:path";

/** The manifest: format name and version. */
export const MANIFEST_FILE = "tradecron-store.json";
/** The single-writer lock file. */
export const LOCK_FILE = "LOCK";
/** The control record. */
export const CONTROL_FILE = "control.json";
/** One JSON file per schedule. */
export const SCHEDULES_DIR = "schedules";
/** Execution log, sealed segments and their checkpoint. */
export const EXECUTIONS_DIR = "executions";
/** The execution checkpoint (inside {@link EXECUTIONS_DIR}). */
export const CHECKPOINT_FILE = "checkpoint.json";
/**
 * The schedule states as of the last sealed log (inside {@link EXECUTIONS_DIR}); later commits
 * are in the logs, each in the line of the outcome that committed it.
 */
export const STATE_FILE = "schedule-state.json";
/** Approvals change log. */
export const APPROVALS_FILE = "approvals.jsonl";
/** Orders change log. */
export const ORDERS_FILE = "orders.jsonl";
/** Audit log. */
export const AUDIT_FILE = "audit.jsonl";
/** Where unreadable or foreign files are moved. */
export const QUARANTINE_DIR = "quarantine";
/** The quarantine's own log (inside {@link QUARANTINE_DIR}). */
export const QUARANTINE_LOG = "quarantine.jsonl";

/**
 * A batch insert in flight (`insertSchedules`): `schedule-batch-<pid>-<n>.json` at the store root
 * names the batch's schedules. It is durable before their files are written and removed (durably)
 * before the insert resolves, so one found at open belongs to a batch a crash interrupted.
 */
export const SCHEDULE_BATCH_PREFIX = "schedule-batch-";

/** The journal name of batch `n` of this process. */
export function scheduleBatchName(n: number): string {
  return `${SCHEDULE_BATCH_PREFIX}${process.pid}-${n}.json`;
}

/** True for a batch insert's journal. */
export function isScheduleBatchName(name: string): boolean {
  return name.startsWith(SCHEDULE_BATCH_PREFIX) && name.endsWith(".json");
}

/** Temp files are `.<name>.<pid>-<random>.tmp`: hidden, and recognisable after a crash. */
export function tempName(name: string): string {
  return `.${name}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`;
}

/** True for a temp file left by an interrupted atomic write (never acknowledged data). */
export function isTempName(name: string): boolean {
  return name.startsWith(".") && name.endsWith(".tmp");
}

const SAFE = /[a-z0-9_-]/;

/**
 * The file name of a schedule. Ids may hold `A-Z` and `:`; both are percent-encoded (`%41`, `%3A`)
 * so that ids differing only in case stay two files on case-insensitive file systems (macOS,
 * Windows) and `:` never reaches a Windows path. A leading `.` is encoded too (no hidden files).
 */
export function scheduleFileName(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) {
    const ch = id[i] as string;
    if (SAFE.test(ch) || (ch === "." && i > 0)) out += ch;
    else
      for (const byte of Buffer.from(ch, "utf8"))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return `${out}.json`;
}

/** The schedule id a file name encodes, or null if the name is not one {@link scheduleFileName} makes. */
export function scheduleIdOf(fileName: string): string | null {
  if (!fileName.endsWith(".json") || fileName.startsWith(".")) return null;
  const stem = fileName.slice(0, -".json".length);
  let id: string;
  try {
    id = decodeURIComponent(stem);
  } catch {
    return null;
  }
  return id.length > 0 && scheduleFileName(id) === fileName ? id : null;
}

const NUM_WIDTH = 12;

/** `log-000000000007.jsonl`: the execution change log number `n`. */
export function logFileName(n: number): string {
  return `log-${String(n).padStart(NUM_WIDTH, "0")}.jsonl`;
}

/** `seg-000000000007`: the base name of sealed segment `n` (`.jsonl` data, `.idx` index). */
export function segmentName(n: number): string {
  return `seg-${String(n).padStart(NUM_WIDTH, "0")}`;
}

/** A file of sealed segment `n`, named `.pending` until the checkpoint that lists it is written. */
export function segmentFileName(n: number, ext: "jsonl" | "idx", pending = false): string {
  return `${segmentName(n)}.${ext}${pending ? ".pending" : ""}`;
}

/** The path of {@link segmentFileName} in the executions folder `dir`. */
export function segmentPath(dir: string, n: number, ext: "jsonl" | "idx", pending = false): string {
  return join(dir, segmentFileName(n, ext, pending));
}

/** Classifies a name found in the executions folder. */
export type ExecutionFileKind =
  | { kind: "checkpoint" }
  | { kind: "state" }
  | { kind: "log"; no: number }
  | { kind: "segment-data"; no: number; pending: boolean }
  | { kind: "segment-index"; no: number; pending: boolean }
  | { kind: "temp" }
  | { kind: "foreign" };

const LOG_RE = /^log-(\d{12})\.jsonl$/;
const SEG_RE = /^seg-(\d{12})\.(jsonl|idx)(\.pending)?$/;

/** What a file in the executions folder is, judged by its name. */
export function classifyExecutionFile(name: string): ExecutionFileKind {
  if (name === CHECKPOINT_FILE) return { kind: "checkpoint" };
  if (name === STATE_FILE) return { kind: "state" };
  if (isTempName(name)) return { kind: "temp" };
  const log = LOG_RE.exec(name);
  if (log) return { kind: "log", no: Number(log[1]) };
  const seg = SEG_RE.exec(name);
  if (seg) {
    const no = Number(seg[1]);
    const pending = seg[3] !== undefined;
    return seg[2] === "jsonl"
      ? { kind: "segment-data", no, pending }
      : { kind: "segment-index", no, pending };
  }
  return { kind: "foreign" };
}
