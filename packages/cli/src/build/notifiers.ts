/**
 * The notifiers a config names: entries of core's notifier config, built by core's
 * `notifierFromConfig`, or the user's own objects. NOTIFIER_TYPES is the extension point: a
 * notifier package's type (`emailNotifierType` from @tradecron/notify-email) is added here.
 */

import { CORE_NOTIFIER_TYPES, type Notifier, type NotifierType, notifierFromConfig } from "@tradecron/core";
import type { ResolvedConfig } from "../config/validate.js";

/** The notifier types a config may name. */
export const NOTIFIER_TYPES: readonly NotifierType[] = CORE_NOTIFIER_TYPES;

/** Builds one entry (throws core's ValidationError naming `field` for a bad one, or a missing secret). */
export function createNotifier(
  entry: ResolvedConfig["notifiers"][number],
  env: Readonly<Record<string, string | undefined>>,
  field: string,
): Notifier {
  if (!("type" in entry) && typeof (entry as Notifier).notify === "function") return entry as Notifier;
  return notifierFromConfig(entry, { env, field, types: NOTIFIER_TYPES });
}

/** Builds the configured notifiers. */
export function createNotifiers(
  configs: ResolvedConfig["notifiers"],
  env: Readonly<Record<string, string | undefined>>,
): Notifier[] {
  return configs.map((entry, i) => createNotifier(entry, env, `notifiers[${i}]`));
}
