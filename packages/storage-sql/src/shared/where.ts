/**
 * A small builder for the filtered, keyset-paginated list statements (executions, approvals, orders,
 * audit). Filters are optional, so these are the only statements composed at call time; every
 * fragment is a fixed string with a placeholder, values always travel as parameters.
 */

import { decodeCursor, encodeCursor, type Page } from "@tradecron/core";

/** Placeholder syntax of a dialect: `$1, $2, ...` (PostgreSQL) or `?` (SQLite). */
export type Placeholder = (index: number) => string;

/** The placeholder of PostgreSQL. */
export const dollar: Placeholder = (i) => `$${i}`;
/** The placeholder of SQLite. */
export const question: Placeholder = () => "?";

/** Accumulates WHERE conditions and their parameters. */
export class Where {
  /** Parameters in placeholder order. */
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  constructor(
    private readonly placeholder: Placeholder,
    /** How a list of values is matched: `= ANY($n::text[])` (PostgreSQL) or `IN (?, ?)` (SQLite). */
    private readonly listStyle: "any" | "in",
  ) {}

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return this.placeholder(this.params.length);
  }

  /** Adds a raw condition (its placeholders must come from {@link param}). */
  add(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** `column = value` when value is defined. */
  eq(column: string, value: string | number | undefined): this {
    if (value !== undefined) this.add(`${column} = ${this.param(value)}`);
    return this;
  }

  /** `column` equals the value or one of the values, when defined. An empty list matches nothing. */
  oneOf(column: string, value: string | readonly string[] | undefined): this {
    if (value === undefined) return this;
    const values = typeof value === "string" ? [value] : [...new Set(value)];
    if (values.length === 0) return this.add("1 = 0");
    if (values.length === 1) return this.add(`${column} = ${this.param(values[0])}`);
    if (this.listStyle === "any") return this.add(`${column} = ANY(${this.param(values)}::text[])`);
    return this.add(`${column} IN (${values.map((v) => this.param(v)).join(", ")})`);
  }

  /** `column >= value` when defined. */
  gte(column: string, value: number | undefined): this {
    if (value !== undefined) this.add(`${column} >= ${this.param(value)}`);
    return this;
  }

  /** `column < value` when defined. */
  lt(column: string, value: number | undefined): this {
    if (value !== undefined) this.add(`${column} < ${this.param(value)}`);
    return this;
  }

  /** The WHERE clause (with its keyword), or an empty string. */
  toSql(): string {
    return this.conditions.length ? ` WHERE ${this.conditions.join(" AND ")}` : "";
  }
}

/** How a list is ordered and paged: newest first by (key desc, id desc). */
export interface KeysetOrder {
  keyColumn: string;
  idColumn: string;
  /**
   * True when the filters make `keyColumn` unique (executions of one schedule: (schedule_id,
   * scheduled_at) is unique), so the cursor condition is `key < k` alone and the unique index
   * serves the order without a tie-breaker.
   */
  keyIsUnique?: boolean;
}

/**
 * Completes `where` with the cursor condition and returns the SELECT that fetches one row more
 * than `limit` (to know whether there is a next page).
 */
export function keysetSelect(
  table: string,
  where: Where,
  order: KeysetOrder,
  cursor: string | null | undefined,
  limit: number,
): string {
  const after = cursor ? decodeCursor(cursor) : null;
  const { keyColumn: k, idColumn: id } = order;
  if (after) {
    if (order.keyIsUnique) where.add(`${k} < ${where.param(after.key)}`);
    else where.add(`(${k}, ${id}) < (${where.param(after.key)}, ${where.param(after.id)})`);
  }
  const orderBy = order.keyIsUnique ? `${k} DESC` : `${k} DESC, ${id} DESC`;
  return `SELECT * FROM ${table}${where.toSql()} ORDER BY ${orderBy} LIMIT ${where.param(limit + 1)}`;
}

/** Cuts the extra row off and makes the next cursor from the last item kept. */
export function toPage<T>(
  items: T[],
  limit: number,
  keyOf: (item: T) => number,
  idOf: (item: T) => string,
): Page<T> {
  if (items.length <= limit) return { items, nextCursor: null };
  const page = items.slice(0, limit);
  const last = page[page.length - 1] as T;
  return { items: page, nextCursor: encodeCursor(keyOf(last), idOf(last)) };
}
