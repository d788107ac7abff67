/**
 * The notifiers a config names: entries of core's notifier config, built by core's
 * `notifierFromConfig`, or the user's own objects. NOTIFIER_TYPES is the extension point: a
 * notifier package's type is added here (`email`, from @tradecron/notify-email).
 */

import { CORE_NOTIFIER_TYPES, type Notifier, type NotifierType, notifierFromConfig } from "@tradecron/core";
import { emailNotifierType } from "@tradecron/notify-email";
import type { ResolvedConfig } from "../config/validate.js";

/** The notifier types a config may name: core's (console, webhook, slack, discord, telegram) and email. */
export const NOTIFIER_TYPES: readonly NotifierType[] = [...CORE_NOTIFIER_TYPES, emailNotifierType];

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
