/**
 * Opaque page cursors shared by every storage: the sort key and id of the last item of a page,
 * base64url-encoded. Lists are ordered newest first by (key desc, id desc).
 */

import { ValidationError } from "../errors.js";

/** Encodes the position after an item whose sort key is `key` and id is `id`. */
export function encodeCursor(key: number, id: string): string {
  return Buffer.from(JSON.stringify([key, id]), "utf8").toString("base64url");
}

/** Decodes a cursor made by {@link encodeCursor}; throws a ValidationError naming `cursor` otherwise. */
export function decodeCursor(cursor: string): { key: number; id: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") {
      return { key: value[0], id: value[1] };
    }
  } catch {
    // fall through to the typed error
  }
  throw new ValidationError([{ field: "cursor", code: "VALIDATION", message: "malformed page cursor" }], {
    component: "storage",
  });
}

/** True if (key, id) sorts after the cursor position in (key desc, id desc) order. */
export function isAfterCursor(key: number, id: string, cursor: { key: number; id: string } | null): boolean {
  if (!cursor) return true;
  return key < cursor.key || (key === cursor.key && id < cursor.id);
}

/** Sorts newest first, takes one page after `cursor`, and returns it with the next cursor. */
export function pageOf<T>(
  items: T[],
  keyOf: (item: T) => number,
  idOf: (item: T) => string,
  limit: number,
  cursor: string | null | undefined,
): { items: T[]; nextCursor: string | null } {
  const after = cursor ? decodeCursor(cursor) : null;
  const sorted = items
    .filter((item) => isAfterCursor(keyOf(item), idOf(item), after))
    .sort((a, b) => keyOf(b) - keyOf(a) || (idOf(a) < idOf(b) ? 1 : idOf(a) > idOf(b) ? -1 : 0));
  const page = sorted.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor =
    sorted.length > limit && last !== undefined ? encodeCursor(keyOf(last), idOf(last)) : null;
  return { items: page, nextCursor };
}

/** Validates a page size (1-1000). */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError(
      [{ field: "limit", code: "VALIDATION", message: "limit must be an integer from 1 to 1000" }],
      {
        component: "storage",
      },
    );
  }
  return limit;
}
