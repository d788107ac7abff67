/**
 * Argument checks every part of the scheduler shares: the acting person or system, record ids,
 * and storage queries without their absent fields.
 */

import { z } from "zod";
import { parseInput } from "../validation.js";

/** Who did something, for the audit log. */
export interface ActorOptions {
  /** Name of the person or system acting. Default `system`. */
  actor?: string;
}

const actorSchema = z.strictObject({ actor: z.string().trim().min(1).max(200).default("system") });

/** The actor of a call (`system` when none is named), checked. */
export function actorOf(options: ActorOptions | undefined): string {
  return parseInput(actorSchema, { actor: options?.actor }, "scheduler").actor;
}

const idSchema = z.string().min(1).max(200);

/** A record id argument, checked to be a string (42 is not coerced to '42'). */
export function idOf(id: unknown, field = "id"): string {
  return parseInput(idSchema, id, "scheduler", field);
}

/** The object without its undefined (and null cursor) fields: storage queries take absent, not undefined. */
export function definedOnly<T extends object>(query: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || (key === "cursor" && !value)) continue;
    out[key] = value;
  }
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}
