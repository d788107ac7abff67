/**
 * SlackNotifier: posts each notification to a Slack incoming webhook
 * (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks), formatted by
 * slack-format.ts. Slack allows about one message per second per webhook, with short bursts
 * (https://docs.slack.dev/apis/web-api/rate-limits, "Incoming webhooks"), and answers a flood with
 * 429 and Retry-After: the default policy sends at most 1 per second and honours it.
 */

import { z } from "zod";
import { systemClock } from "../time/clock.js";
import { parseInput } from "../validation.js";
import { ChatNotifier, type ChatNotifierOptions, chatNotifierShape } from "./chat-notifier.js";
import { postJson } from "./http-delivery.js";
import { urlSchema } from "./message-layout.js";
import { type Notification, parseNotification } from "./notifier.js";
import type { PolicyDefaults } from "./notify-policy.js";
import { Secret, safeOrigin } from "./secret.js";
import { slackMessage } from "./slack-format.js";

/** Options of {@link SlackNotifier}. */
export interface SlackNotifierOptions extends ChatNotifierOptions {
  /** The incoming-webhook URL (`https://hooks.slack.com/services/T…/B…/…`): a secret. */
  url: string;
}

/** Slack's published limit for one webhook, and 3 tries. */
export const SLACK_DEFAULTS: PolicyDefaults = {
  rateLimit: [{ limit: 1, interval: "1s" }],
  retry: { attempts: 3 },
};

const httpUrl = urlSchema(["http:", "https:"], "must be an http or https URL (the incoming webhook's URL)");

/** zod schema of {@link SlackNotifierOptions}. */
export const slackNotifierOptionsSchema = z.strictObject({ url: httpUrl, ...chatNotifierShape("slack") });

/** Posts notifications to a Slack channel through an incoming webhook. */
export class SlackNotifier extends ChatNotifier {
  /** @throws ValidationError naming the bad option (never quoting the URL). */
  constructor(options: SlackNotifierOptions) {
    const o = parseInput(slackNotifierOptionsSchema, options, "SlackNotifier");
    const url = new Secret(o.url);
    const clock = o.clock ?? systemClock;
    const fetchFn = o.fetch ?? fetch;
    const send = async (notification: Notification) => {
      const n = parseNotification(notification, `notifier ${o.name}`);
      await postJson({
        url: url.reveal(),
        body: slackMessage(n, o.dashboardUrl ?? null),
        timeoutMs: o.timeout,
        clock,
        fetch: fetchFn,
        secrets: [url, new URL(o.url).pathname],
        notifier: o.name,
        // Slack answers errors as plain text: invalid_payload, no_service, channel_is_archived...
        describeError: (_status, text) => ({ description: text.trim().slice(0, 100) }),
      });
    };
    super("slack", { name: o.name, notify: send }, { ...o, clock }, SLACK_DEFAULTS, safeOrigin(o.url));
  }
}
