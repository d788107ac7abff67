/**
 * Row <-> record mapping shared by both dialects. Every record field has its own column (so hosts
 * can query and index them); the two dialects differ only in how JSON, booleans and 64-bit numbers
 * travel, which a {@link Codec} captures.
 *
 * Fields a newer core adds to a record before this package knows them are not dropped: they go to
 * the `extra` JSON column and come back on read (DESIGN.md promise 3, nothing acknowledged is lost).
 * The shapes are checked against core's record types (`satisfies`), so a misspelt or removed field
 * is a compile error; a field that only has no column yet is not.
 */

import type {
  ApprovalRecord,
  AuditEntry,
  ControlRecord,
  ExecutionRecord,
  OrderRecord,
  ScheduleRecord,
} from "@tradecron/core";

/** How a field is stored. */
export type ColumnKind = "text" | "int" | "float" | "bool" | "json";

/** One record field and its column. */
export interface Column {
  /** Record field name (camelCase). */
  readonly field: string;
  /** Column name (snake_case). */
  readonly column: string;
  readonly kind: ColumnKind;
  /** An optional record field: absent from the record (not null) when the column is null. */
  readonly optional?: true;
}

/** The columns of one table, in declaration order, plus the `extra` column for unknown fields. */
export interface TableShape {
  /** Logical table name (without schema or prefix), for error messages. */
  readonly table: string;
  readonly columns: readonly Column[];
  /** Record fields that have a column (everything else goes to `extra`). */
  readonly known: ReadonlySet<string>;
}

/** Dialect-specific value conversions. */
export interface Codec {
  /** A JSON value as a statement parameter (never called with null or undefined). */
  encodeJson(value: unknown): unknown;
  /** A JSON column value as read (never called with null). */
  decodeJson(value: unknown): unknown;
  encodeBool(value: boolean): unknown;
  decodeBool(value: unknown): boolean;
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Record fields (`table.field`) that are absent, not null, when their column is null. */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(["approvals.groupId"]);

function shape(table: string, spec: Record<string, ColumnKind>): TableShape {
  const columns = Object.entries(spec).map(([field, kind]) => ({
    field,
    column: snake(field),
    kind,
    ...(OPTIONAL_FIELDS.has(`${table}.${field}`) ? { optional: true as const } : {}),
  }));
  return { table, columns, known: new Set(Object.keys(spec)) };
}

/** Columns of the `schedules` table. */
export const SCHEDULES = shape("schedules", {
  id: "text",
  name: "text",
  job: "text",
  description: "text",
  tags: "json",
  trigger: "json",
  data: "json",
  enabled: "bool",
  paused: "bool",
  misfire: "json",
  overlap: "text",
  retry: "json",
  timeoutMs: "int",
  retention: "json",
  firesSince: "int",
  revision: "int",
  createdAt: "int",
  updatedAt: "int",
} satisfies Partial<Record<keyof ScheduleRecord, ColumnKind>>);

/** Columns of the `control` table (one row; its `id` column is not a record field). */
export const CONTROL = shape("control", {
  pausedAll: "bool",
  pausedAt: "int",
  pausedBy: "text",
  reason: "text",
  revision: "int",
} satisfies Partial<Record<keyof ControlRecord, ColumnKind>>);

/** Columns of the `executions` table. */
export const EXECUTIONS = shape("executions", {
  id: "text",
  scheduleId: "text",
  job: "text",
  scheduledAt: "int",
  kind: "text",
  status: "text",
  reason: "text",
  attempts: "int",
  claimedAt: "int",
  startedAt: "int",
  endedAt: "int",
  instanceId: "text",
  leaseExpiresAt: "int",
  actor: "text",
  error: "json",
  result: "json",
  details: "json",
  idempotencyKey: "text",
} satisfies Partial<Record<keyof ExecutionRecord, ColumnKind>>);

/** Columns of the `approvals` table. */
export const APPROVALS = shape("approvals", {
  id: "text",
  scheduleId: "text",
  executionId: "text",
  fireKey: "text",
  intentIndex: "int",
  clientOrderId: "text",
  intent: "json",
  status: "text",
  riskLevel: "text",
  rationale: "text",
  confidence: "float",
  supportingData: "json",
  createdAt: "int",
  expiresAt: "int",
  decidedAt: "int",
  decidedBy: "text",
  decisionReason: "text",
  brokerOrderId: "text",
  error: "json",
  // Added by migration 4 ("approval groups"); absent on approvals proposed on their own.
  groupId: "text",
} satisfies Partial<Record<keyof ApprovalRecord, ColumnKind>>);

/** Columns of the `orders` table. */
export const ORDERS = shape("orders", {
  clientOrderId: "text",
  brokerOrderId: "text",
  broker: "text",
  scheduleId: "text",
  executionId: "text",
  approvalId: "text",
  symbol: "text",
  side: "text",
  intent: "json",
  status: "text",
  filledQty: "text",
  avgFillPrice: "text",
  submittedAt: "int",
  updatedAt: "int",
  error: "json",
} satisfies Partial<Record<keyof OrderRecord, ColumnKind>>);

/** Columns of the `audit` table (`seq` is assigned by the database). */
export const AUDIT = shape("audit", {
  seq: "int",
  at: "int",
  actor: "text",
  action: "text",
  subjectType: "text",
  subjectId: "text",
  details: "json",
} satisfies Partial<Record<keyof AuditEntry, ColumnKind>>);

/** Name of the column that keeps record fields this version has no column for. */
export const EXTRA_COLUMN = "extra";

/** Converts one field value to its column value. */
export function encodeValue(kind: ColumnKind, value: unknown, codec: Codec): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "json":
      return codec.encodeJson(value);
    case "bool":
      return codec.encodeBool(value as boolean);
    default:
      return value;
  }
}

/** Converts one column value to its field value. */
export function decodeValue(kind: ColumnKind, value: unknown, codec: Codec): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "json":
      return codec.decodeJson(value);
    case "bool":
      return codec.decodeBool(value);
    case "int":
    case "float":
      // pg returns int8 as a string (it may exceed 2^53); our instants and counters never do.
      return typeof value === "number" ? value : Number(value);
    default:
      return value;
  }
}

/** The `extra` column value: every field of `record` without a column, or null when there is none. */
export function encodeExtra(shape: TableShape, record: object, codec: Codec): unknown {
  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    if (shape.known.has(key)) continue;
    const value = (record as Record<string, unknown>)[key];
    if (value === undefined) continue;
    extra ??= {};
    extra[key] = value;
  }
  return extra === null ? null : codec.encodeJson(extra);
}

/**
 * The column values of `record` in `shape.columns` order followed by `extra`; `skip` leaves out
 * columns the database fills in (the audit `seq`).
 */
export function encodeRow(shape: TableShape, record: object, codec: Codec, skip?: string): unknown[] {
  const values: unknown[] = [];
  const r = record as Record<string, unknown>;
  for (const c of shape.columns) {
    if (c.field === skip) continue;
    values.push(encodeValue(c.kind, r[c.field], codec));
  }
  values.push(encodeExtra(shape, record, codec));
  return values;
}

/** A fresh record from a row (an object keyed by column name). */
export function decodeRow<T>(shape: TableShape, row: Record<string, unknown>, codec: Codec): T {
  return compiledDecoder(shape, codec)(row) as T;
}

type Decoder = (row: Record<string, unknown>) => Record<string, unknown>;
const decoders = new WeakMap<TableShape, WeakMap<Codec, Decoder>>();

/**
 * A decoder generated for one (shape, codec): an object literal with every field in a fixed order,
 * so all records of a table share one hidden class. Decoding is on the hot path (each fire decodes
 * a few rows), and the generic loop was several times slower. The generated source only contains
 * our own column and field names (constants above), never data.
 */
function compiledDecoder(shape: TableShape, codec: Codec): Decoder {
  let byCodec = decoders.get(shape);
  if (!byCodec) {
    byCodec = new WeakMap();
    decoders.set(shape, byCodec);
  }
  let decoder = byCodec.get(codec);
  if (decoder) return decoder;
  const value = (c: Column) => {
    const v = `row[${JSON.stringify(c.column)}]`;
    if (c.kind === "json") return `dj(${v})`;
    if (c.kind === "bool") return `db(${v})`;
    if (c.kind === "int" || c.kind === "float") return `(typeof ${v} === "number" ? ${v} : Number(${v}))`;
    return v;
  };
  const optional = shape.columns
    .filter((c) => c.optional)
    .map(
      (c) =>
        `if (row[${JSON.stringify(c.column)}] != null) record[${JSON.stringify(c.field)}] = ${value(c)};`,
    );
  const lines = shape.columns
    .filter((c) => !c.optional)
    .map((c) => {
      const v = `row[${JSON.stringify(c.column)}]`;
      let value: string;
      if (c.kind === "json") value = `dj(${v})`;
      else if (c.kind === "bool") value = `db(${v})`;
      else if (c.kind === "int" || c.kind === "float")
        value = `(typeof ${v} === "number" ? ${v} : Number(${v}))`;
      else value = v;
      return `${JSON.stringify(c.field)}: ${v} == null ? null : ${value}`;
    });
  const body = `return function decode(row) {
    const record = { ${lines.join(",\n")} };
    ${optional.join("\n")}
    const extra = row[${JSON.stringify(EXTRA_COLUMN)}];
    if (extra != null) {
      const fields = dj(extra);
      // defineProperty, not assignment: a stored "__proto__" key must stay data.
      for (const key of Object.keys(fields)) {
        if (!Object.hasOwn(record, key)) {
          Object.defineProperty(record, key, { value: fields[key], enumerable: true, writable: true, configurable: true });
        }
      }
    }
    return record;
  };`;
  decoder = new Function("dj", "db", body)(
    (value: unknown) => codec.decodeJson(value),
    (value: unknown) => codec.decodeBool(value),
  ) as Decoder;
  byCodec.set(codec, decoder);
  return decoder;
}

/**
 * A partial record as SET columns and their encoded values, for compare-and-set updates: fields
 * with a column each get one; the others are gathered into one JSON `extra` value (the dialect's
 * statement merges it into the stored one). `skip`: fields a patch must never change.
 */
export function encodePatch(
  shape: TableShape,
  patch: object,
  codec: Codec,
  skip: readonly string[],
): { columns: string[]; values: unknown[] } {
  const columns: string[] = [];
  const values: unknown[] = [];
  let extra: Record<string, unknown> | null = null;
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || skip.includes(field)) continue;
    const column = columnOf(shape, field);
    if (column) {
      columns.push(column.column);
      values.push(encodeValue(column.kind, value, codec));
    } else {
      extra ??= {};
      extra[field] = value;
    }
  }
  if (extra) {
    columns.push(EXTRA_COLUMN);
    values.push(JSON.stringify(extra));
  }
  return { columns, values };
}

/** The column of a record field, or undefined when the field has none. */
export function columnOf(shape: TableShape, field: string): Column | undefined {
  return shape.columns.find((c) => c.field === field);
}

/**
 * A record as one object keyed by column name, for set-based statements that take a whole batch
 * as a single JSON parameter (`jsonb_to_recordset`). JSON fields stay nested; unknown fields go to
 * `extra`.
 */
export function toColumnObject(shape: TableShape, record: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = record as Record<string, unknown>;
  let extra: Record<string, unknown> | null = null;
  for (const key of Object.keys(r)) {
    const value = r[key];
    if (value === undefined) continue;
    if (shape.known.has(key)) continue;
    extra ??= {};
    extra[key] = value;
  }
  for (const c of shape.columns) out[c.column] = r[c.field] ?? null;
  out[EXTRA_COLUMN] = extra;
  return out;
}
