/**
 * What the HTTP chat notifiers (Slack, Discord, Telegram) and the email notifier share: a sender
 * behind the delivery policy with the service's limits, the common options (name, dashboard
 * link, timeout, fetch, policy keys), and a printed form (`toJSON`, `util.inspect`) that shows
 * where it sends without the secret that lets it.
 */

import { z } from "zod";
import { type DurationInput, positiveDurationSchema } from "../validation.js";
import { type FetchFunction, fetchSchema } from "./http-delivery.js";
import { dashboardUrlSchema } from "./message-layout.js";
import type { Notifier } from "./notifier.js";
import {
  type NotifyPolicyOptions,
  notifyPolicyShape,
  type PolicyDefaults,
  PolicyNotifier,
} from "./notify-policy.js";

/** Options every chat notifier takes besides its destination. */
export interface ChatNotifierOptions extends NotifyPolicyOptions {
  /** Name in error reports and stats. */
  name?: string;
  /** The dashboard's address: messages link to it. */
  dashboardUrl?: string;
  /** Per-request timeout (default 10 s). */
  timeout?: DurationInput;
  /** The fetch to use (default the global one): for a proxy agent, or a test tap. */
  fetch?: FetchFunction;
}

/** zod shape of {@link ChatNotifierOptions}, with the notifier's default name. */
export function chatNotifierShape(defaultName: string) {
  return {
    name: z.string().trim().min(1).max(100).default(defaultName),
    dashboardUrl: dashboardUrlSchema.optional(),
    timeout: positiveDurationSchema.default(10_000),
    fetch: fetchSchema.optional(),
    ...notifyPolicyShape,
  };
}

/** A notifier for a service, behind the policy with the service's limits. */
export class ChatNotifier extends PolicyNotifier {
  /** `slack`, `discord`, `telegram`, `email`. */
  readonly type: string;
  readonly #destination: string;

  /**
   * @param sender delivers one notification, once (the policy retries).
   * @param destination where it sends, safe to print (an origin, a chat id; never a token).
   */
  constructor(
    type: string,
    sender: Notifier,
    options: NotifyPolicyOptions,
    defaults: PolicyDefaults,
    destination: string,
  ) {
    super(sender, options, defaults);
    this.type = type;
    this.#destination = destination;
  }

  /** What it is and where it sends, without secrets. */
  override toJSON(): { type: string; name: string; destination: string; rateLimit: string } {
    return {
      type: this.type,
      name: this.name,
      destination: this.#destination,
      rateLimit: this.rateLimitDescription,
    };
  }
}
