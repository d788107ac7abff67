/** Helpers every storage uses for {@link Storage.insertSchedules}, so all of them fail alike. */

import { ConflictError } from "../errors.js";

/**
 * The ConflictError `SCHEDULE_EXISTS` of a bulk insert: `details.id` names the id (next to any
 * other `details`, such as the table), `cause` the driver's error if there is one.
 */
export function scheduleExistsError(
  id: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): ConflictError {
  return new ConflictError(
    "SCHEDULE_EXISTS",
    `schedule '${id}' exists already or is repeated in the batch; none of the batch was inserted`,
    { field: "id", cause, details: { ...details, id } },
  );
}

/**
 * The id of the first record of `schedules` (in order) that is taken (`taken(id)` says so) or
 * repeats an earlier record's id, or null when the whole batch can be inserted.
 */
export function firstConflictingId(
  schedules: readonly { id: string }[],
  taken: (id: string) => boolean,
): string | null {
  const seen = new Set<string>();
  for (const { id } of schedules) {
    if (seen.has(id) || taken(id)) return id;
    seen.add(id);
  }
  return null;
}
