/** The notifiers a config names: the console, a webhook, or the user's own objects. */

import { ConsoleNotifier, type Notifier, WebhookNotifier } from "@tradecron/core";
import type { ResolvedConfig } from "../config/validate.js";

/** Builds the configured notifiers. */
export function createNotifiers(configs: ResolvedConfig["notifiers"]): Notifier[] {
  return configs.map((n) => {
    if (!("type" in n)) return n;
    if (n.type === "console") return new ConsoleNotifier();
    if (n.type === "webhook") {
      return new WebhookNotifier({
        url: n.url,
        ...(n.secret ? { secret: n.secret } : {}),
        ...(n.headers ? { headers: n.headers } : {}),
        ...(n.attempts ? { attempts: n.attempts } : {}),
        ...(n.timeout === undefined ? {} : { timeout: n.timeout }),
      });
    }
    return n as Notifier;
  });
}
