/**
 * How values travel between PostgresStorage and pg: the driver's type parsers for our queries, the
 * value conversions of the shared row mapping (`shared/rows.ts`), and the decoders of the records
 * every part reads back.
 */

import type { ControlRecord, ExecutionRecord, ScheduleRecord } from "@tradecron/core";
import pg from "pg";
import { CONTROL, type Codec, decodeRow, EXECUTIONS, SCHEDULES } from "../shared/rows.js";

// Our own type parsers, whatever the host did to pg's global ones: int8 (instants, counts) as
// numbers (they stay below 2^53), json/jsonb parsed.
const INT8 = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;

/** The type parsers of every query the storage sends. */
export const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8) return (value: string) => Number(value);
    if (oid === JSON_OID || oid === JSONB_OID) return (value: string) => JSON.parse(value) as unknown;
    return pg.types.getTypeParser(oid, (format ?? "text") as "text");
  },
} as pg.CustomTypesConfig;

/** PostgreSQL value conversions: JSON travels as text parameters and comes back parsed. */
export const codec: Codec = {
  encodeJson: (value) => JSON.stringify(value),
  decodeJson: (value) => value,
  encodeBool: (value) => value,
  decodeBool: (value) => (value === true ? true : value === false ? false : (value as boolean)),
};

/** A schedule row as a record (unchecked: see `shared/trust.ts`). */
export const decodeSchedule = (row: Record<string, unknown>) =>
  decodeRow<ScheduleRecord>(SCHEDULES, row, codec);

/** The control row as a record (unchecked: see `shared/trust.ts`). */
export const decodeControl = (row: Record<string, unknown>) => decodeRow<ControlRecord>(CONTROL, row, codec);

/** An executions row as a record, its own copy. */
export const decodeExecution = (row: Record<string, unknown>): ExecutionRecord =>
  decodeRow<ExecutionRecord>(EXECUTIONS, row, codec);
