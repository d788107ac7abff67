/**
 * The binary index of a sealed execution segment (`seg-<n>.idx`). A segment's JSON Lines file
 * holds final execution records sorted by (scheduleId, scheduledAt, id), one per line; its index
 * holds, per line, the columns queries filter and sort on, so opening a store with a million
 * executions reads a few compact typed arrays per segment instead of parsing a million lines.
 *
 * Layout (little-endian): an 8-byte magic, u32 index version, u32 header length, u32 CRC-32 of
 * everything after the fixed 24-byte prelude, u32 reserved; a JSON header (row count, data
 * length, time range, section table) padded to 8 bytes; then 8-byte aligned sections:
 *
 * | section       | type        | per                                     |
 * |---------------|-------------|-----------------------------------------|
 * | at            | f64         | row: scheduledAt                        |
 * | off           | f64         | row + 1: byte offset of the line        |
 * | status, kind  | u8          | row: position in EXECUTION_STATUSES / FIRE_KINDS |
 * | sched         | u32         | row: schedule number                    |
 * | crc           | u32         | row: CRC-32 of the line                 |
 * | hash          | u32         | row: FNV-1a of the id                   |
 * | byHash        | u32         | rows ordered by hash (id lookup)        |
 * | byTime        | u32         | rows ordered by (scheduledAt, id) desc  |
 * | idOff, ids    | u32, bytes  | the ids, UTF-8                          |
 * | schedOff, schedIds | u32, bytes | distinct schedule ids, sorted       |
 * | schedStart    | u32         | schedule + 1: first row of each schedule|
 * | schedLastOwn  | f64         | schedule: latest own-fire scheduledAt (NaN: none) |
 *
 * The index is derived data: if it is missing, stale or damaged it is rebuilt from the lines.
 */

import { type ExecutionStatus, type FireKind, sortInSlices, Turn } from "@tradecron/core";
import { crc32, fnv1a } from "./crc32.js";
import { EXECUTION_STATUSES, FIRE_KINDS, isOwnFire } from "./records.js";

/** The index format version (independent of the store format: the index can always be rebuilt). */
export const INDEX_VERSION = 1;
const MAGIC = "TCSEGIX\u0001";
const PRELUDE = 24;

/** One final execution going into a segment. */
export interface SegmentRow {
  id: string;
  scheduleId: string;
  scheduledAt: number;
  status: ExecutionStatus;
  kind: FireKind;
  /** The record as compact JSON, UTF-8 (one line, without its `\n`). */
  line: Uint8Array;
}

/** Segment order: scheduleId, then scheduledAt, then id (JavaScript string order). */
export function compareRows(a: SegmentRow, b: SegmentRow): number {
  if (a.scheduleId !== b.scheduleId) return a.scheduleId < b.scheduleId ? -1 : 1;
  if (a.scheduledAt !== b.scheduledAt) return a.scheduledAt - b.scheduledAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The decoded index: typed-array views over the index file's bytes. */
export interface SegmentIndex {
  rows: number;
  schedules: number;
  dataBytes: number;
  minAt: number;
  maxAt: number;
  at: Float64Array;
  off: Float64Array;
  status: Uint8Array;
  kind: Uint8Array;
  sched: Uint32Array;
  crc: Uint32Array;
  hash: Uint32Array;
  byHash: Uint32Array;
  byTime: Uint32Array;
  idOff: Uint32Array;
  ids: Uint8Array;
  schedOff: Uint32Array;
  schedIds: Uint8Array;
  schedStart: Uint32Array;
  schedLastOwn: Float64Array;
}

type SectionName = Exclude<keyof SegmentIndex, "rows" | "schedules" | "dataBytes" | "minAt" | "maxAt">;

/** The columns of an index, to encode (see {@link encodeIndex}). */
export type IndexColumns = Record<SectionName, ArrayBufferView>;

/**
 * The per-row columns of an index for `rows` rows, zeroed, for a builder to fill (a seal or merge
 * here, a compaction in segment-compaction.ts): their types and lengths are defined once, here.
 * `off` and `idOff` hold one entry more, the end of the last line and of the last id.
 */
export function rowColumns(rows: number) {
  return {
    at: new Float64Array(rows),
    off: new Float64Array(rows + 1),
    status: new Uint8Array(rows),
    kind: new Uint8Array(rows),
    sched: new Uint32Array(rows),
    crc: new Uint32Array(rows),
    hash: new Uint32Array(rows),
    idOff: new Uint32Array(rows + 1),
  };
}

type ArrayKind = "f64" | "u32" | "u8";

const SECTIONS: ReadonlyArray<[SectionName, ArrayKind]> = [
  ["at", "f64"],
  ["off", "f64"],
  ["schedLastOwn", "f64"],
  ["sched", "u32"],
  ["crc", "u32"],
  ["hash", "u32"],
  ["byHash", "u32"],
  ["byTime", "u32"],
  ["idOff", "u32"],
  ["schedOff", "u32"],
  ["schedStart", "u32"],
  ["status", "u8"],
  ["kind", "u8"],
  ["ids", "u8"],
  ["schedIds", "u8"],
];

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * The data file and index of a segment, built from rows sorted by {@link compareRows}, in slices
 * (`turn`): a seal or merge of 100,000 rows otherwise held the event loop for 100-200 ms.
 */
export async function buildSegment(
  rows: readonly SegmentRow[],
  turn: Turn = new Turn(),
): Promise<{ data: Buffer; index: Buffer }> {
  const n = rows.length;
  let total = 0;
  for (const r of rows) total += r.line.length + 1;
  const data = Buffer.allocUnsafe(total);
  const columns = rowColumns(n);
  const { at, off, status, kind, sched, crc, hash, idOff } = columns;
  const idBytes: Buffer[] = new Array<Buffer>(n);
  const schedNames: string[] = [];
  const starts: number[] = [];
  const lastOwn: number[] = [];
  let pos = 0;
  let idPos = 0;
  let minAt = Number.POSITIVE_INFINITY;
  let maxAt = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if ((i & 1023) === 1023) await turn.maybeYield();
    const r = rows[i] as SegmentRow;
    idBytes[i] = Buffer.from(r.id, "utf8");
    data.set(r.line, pos);
    data[pos + r.line.length] = 10;
    if (i === 0 || r.scheduleId !== (rows[i - 1] as SegmentRow).scheduleId) {
      schedNames.push(r.scheduleId);
      starts.push(i);
      lastOwn.push(Number.NaN);
    }
    const s = schedNames.length - 1;
    at[i] = r.scheduledAt;
    off[i] = pos;
    status[i] = EXECUTION_STATUSES.indexOf(r.status);
    kind[i] = FIRE_KINDS.indexOf(r.kind);
    sched[i] = s;
    // The CRC covers the line without its newline, which is what a reader slices out.
    crc[i] = crc32(r.line);
    hash[i] = fnv1a(r.id);
    idOff[i] = idPos;
    idPos += (idBytes[i] as Buffer).length;
    pos += r.line.length + 1;
    if (r.scheduledAt < minAt) minAt = r.scheduledAt;
    if (r.scheduledAt > maxAt) maxAt = r.scheduledAt;
    if (isOwnFire(r.kind)) {
      const prev = lastOwn[s] as number;
      if (Number.isNaN(prev) || r.scheduledAt > prev) lastOwn[s] = r.scheduledAt;
    }
  }
  off[n] = pos;
  idOff[n] = idPos;
  starts.push(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const byHash = Uint32Array.from(
    await sortInSlices([...order], (a, b) => (hash[a] as number) - (hash[b] as number) || a - b, turn),
  );
  await turn.maybeYield();
  const byTime = Uint32Array.from(
    await sortInSlices(
      order,
      (a, b) => {
        const d = (at[b] as number) - (at[a] as number);
        if (d !== 0) return d;
        const ia = (rows[a] as SegmentRow).id;
        const ib = (rows[b] as SegmentRow).id;
        return ia < ib ? 1 : ia > ib ? -1 : 0;
      },
      turn,
    ),
  );
  await turn.maybeYield();
  const schedBytes = schedNames.map((s) => Buffer.from(s, "utf8"));
  const schedOff = new Uint32Array(schedNames.length + 1);
  let sp = 0;
  for (let i = 0; i < schedBytes.length; i++) {
    schedOff[i] = sp;
    sp += (schedBytes[i] as Buffer).length;
  }
  schedOff[schedBytes.length] = sp;
  const arrays: IndexColumns = {
    ...columns,
    byHash,
    byTime,
    ids: Buffer.concat(idBytes),
    schedOff,
    schedIds: Buffer.concat(schedBytes),
    schedStart: Uint32Array.from(starts),
    schedLastOwn: Float64Array.from(lastOwn),
  };
  return {
    data,
    index: encodeIndex(arrays, {
      rows: n,
      schedules: schedNames.length,
      dataBytes: data.length,
      minAt: n > 0 ? minAt : 0,
      maxAt: n > 0 ? maxAt : 0,
    }),
  };
}

/** The scalar fields of an index. */
export interface IndexHeader {
  rows: number;
  schedules: number;
  dataBytes: number;
  minAt: number;
  maxAt: number;
}

/** Encodes an index file from its columns (see the layout in the module comment). */
export function encodeIndex(arrays: IndexColumns, header: IndexHeader): Buffer {
  // Two passes: the header holds section offsets, which depend on the header's own length.
  const sizes = SECTIONS.map(([name]) => arrays[name].byteLength);
  let headerJson = "";
  let reserved = 256;
  let table: Record<string, [number, number]> = {};
  for (;;) {
    table = {};
    let p = PRELUDE + reserved;
    SECTIONS.forEach(([name], i) => {
      table[name] = [p, sizes[i] as number];
      p = pad8(p + (sizes[i] as number));
    });
    headerJson = JSON.stringify({ ...header, sections: table });
    const needed = pad8(Buffer.byteLength(headerJson));
    if (needed <= reserved) break;
    reserved = needed;
  }
  const last = SECTIONS[SECTIONS.length - 1] as [SectionName, ArrayKind];
  const [lastOff, lastLen] = table[last[0]] as [number, number];
  const out = Buffer.alloc(pad8(lastOff + lastLen));
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(INDEX_VERSION, 8);
  out.writeUInt32LE(reserved, 12);
  const written = out.write(headerJson, PRELUDE, "utf8");
  // JSON.parse ignores the trailing spaces that pad the header to its reserved size.
  out.fill(0x20, PRELUDE + written, PRELUDE + reserved);
  for (const [name] of SECTIONS) {
    const view = arrays[name];
    const [o] = table[name] as [number, number];
    out.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), o);
  }
  out.writeUInt32LE(crc32(out.subarray(PRELUDE)), 16);
  return out;
}

/** Decodes an index, or returns why it cannot be used. Views share `bytes`' memory. */
export function decodeIndex(bytes: Buffer): SegmentIndex | string {
  if (bytes.length < PRELUDE || bytes.toString("latin1", 0, 8) !== MAGIC) return "not a segment index";
  if (bytes.readUInt32LE(8) !== INDEX_VERSION)
    return `index version ${bytes.readUInt32LE(8)} is not ${INDEX_VERSION}`;
  if (crc32(bytes.subarray(PRELUDE)) !== bytes.readUInt32LE(16)) return "checksum mismatch";
  // Typed arrays need aligned offsets: copy if the buffer does not start on an 8-byte boundary.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(bytes);
  let header: IndexHeader & { sections: Record<string, [number, number]> };
  try {
    header = JSON.parse(buf.toString("utf8", PRELUDE, PRELUDE + buf.readUInt32LE(12)));
  } catch {
    return "unreadable header";
  }
  const { rows, schedules } = header;
  const expected: Record<SectionName, number> = {
    at: rows,
    off: rows + 1,
    status: rows,
    kind: rows,
    sched: rows,
    crc: rows,
    hash: rows,
    byHash: rows,
    byTime: rows,
    idOff: rows + 1,
    ids: -1,
    schedOff: schedules + 1,
    schedIds: -1,
    schedStart: schedules + 1,
    schedLastOwn: schedules,
  };
  const out: Partial<SegmentIndex> = { ...header };
  for (const [name, kind] of SECTIONS) {
    const entry = header.sections?.[name];
    if (!entry) return `section ${name} missing`;
    const [o, len] = entry;
    if (o % 8 !== 0 || o + len > buf.length) return `section ${name} out of bounds`;
    const abs = buf.byteOffset + o;
    let view: Float64Array | Uint32Array | Uint8Array;
    if (kind === "f64") view = new Float64Array(buf.buffer, abs, len / 8);
    else if (kind === "u32") view = new Uint32Array(buf.buffer, abs, len / 4);
    else view = new Uint8Array(buf.buffer, abs, len);
    if (expected[name] !== -1 && view.length !== expected[name])
      return `section ${name} has the wrong length`;
    (out as Record<string, unknown>)[name] = view;
  }
  const index = out as SegmentIndex;
  if (index.off[rows] !== header.dataBytes) return "data length mismatch";
  return index;
}
