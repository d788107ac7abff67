/**
 * How values travel between SqliteStorage and better-sqlite3: the value conversions of the shared
 * row mapping (`shared/rows.ts`), and the decoders of the records every part reads back.
 */

import type { ControlRecord, ExecutionRecord, ScheduleRecord } from "@tradecron/core";
import { CONTROL, type Codec, decodeRow, EXECUTIONS, SCHEDULES } from "../shared/rows.js";

/** A row as better-sqlite3 returns it, by column. */
export type Row = Record<string, unknown>;

/**
 * SQLite value conversions: JSON as text, booleans as 0/1. SQLite keeps whatever a person writes
 * into a column, so anything but 0 and 1 comes back as it is (not as false): the record checks
 * then refuse it instead of reading `paused_all = 'yes'` as "not paused".
 */
export const codec: Codec = {
  encodeJson: (value) => JSON.stringify(value),
  decodeJson: (value) => JSON.parse(value as string) as unknown,
  encodeBool: (value) => (value ? 1 : 0),
  decodeBool: (value) => (value === 1 ? true : value === 0 ? false : (value as boolean)),
};

/** A schedule row as a record (unchecked: see `shared/trust.ts`). */
export const decodeSchedule = (row: Row) => decodeRow<ScheduleRecord>(SCHEDULES, row, codec);

/** The control row as a record (unchecked: see `shared/trust.ts`). */
export const decodeControl = (row: Row) => decodeRow<ControlRecord>(CONTROL, row, codec);

/** An executions row as a record. */
export const decodeExecution = (row: Row): ExecutionRecord =>
  decodeRow<ExecutionRecord>(EXECUTIONS, row, codec);
