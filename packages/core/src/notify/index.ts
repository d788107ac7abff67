/**
 * Notifiers: the contract, the console, function and webhook notifiers, webhook signatures, and
 * the hub that fans notifications out in the background.
 *
 * @packageDocumentation
 */

export { ConsoleNotifier, type ConsoleNotifierOptions, formatNotificationLine } from "./console-notifier.js";
export { FunctionNotifier, type NotifyFunction } from "./function-notifier.js";
export {
  NOTIFICATION_KINDS,
  NOTIFICATION_SEVERITIES,
  type Notification,
  type NotificationInput,
  type NotificationKind,
  type NotificationSeverity,
  type Notifier,
  NotifierError,
  notificationSchema,
  parseNotification,
  toNotification,
} from "./notifier.js";
export { NotifierHub, type NotifierHubErrorContext, type NotifierHubOptions } from "./notifier-hub.js";
export {
  parseRetryAfter,
  type WebhookBackoff,
  WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookRetry,
} from "./webhook-notifier.js";
export {
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhookPayload,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  type WebhookSignatureCheck,
} from "./webhook-signature.js";
