/**
 * Notifiers: the contract, the console, function and webhook notifiers, webhook signatures, and
 * the hub that fans notifications out in the background.
 *
 * @packageDocumentation
 */

export { ChatNotifier, type ChatNotifierOptions, chatNotifierShape } from "./chat-notifier.js";
export { ConsoleNotifier, type ConsoleNotifierOptions, formatNotificationLine } from "./console-notifier.js";
export {
  DISCORD_LIMITS,
  type DiscordEmbed,
  type DiscordMessage,
  discordMessage,
  escapeDiscord,
} from "./discord-format.js";
export {
  DISCORD_DEFAULTS,
  DiscordNotifier,
  type DiscordNotifierOptions,
  describeDiscordError,
  discordNotifierOptionsSchema,
} from "./discord-notifier.js";
export { FunctionNotifier, type NotifyFunction } from "./function-notifier.js";
export {
  type FetchFunction,
  fetchSchema,
  type JsonAnswer,
  type JsonPost,
  parseJsonText,
  postJson,
  type ServiceErrorInfo,
} from "./http-delivery.js";
export {
  type DataField,
  dashboardUrlSchema,
  fitText,
  layoutNotification,
  MAX_DATA_FIELDS,
  type MessageLayout,
  SEVERITY_STYLES,
  type SeverityStyle,
  TRUNCATED,
  urlSchema,
} from "./message-layout.js";
export {
  describeSpan,
  SUMMARY_KIND,
  SUMMARY_SAMPLES,
  SummaryBucket,
  summaryNotification,
} from "./notification-summary.js";
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
export {
  CORE_NOTIFIER_TYPES,
  consoleNotifierType,
  discordNotifierType,
  NOTIFIER_ENV,
  type NotifierBuildContext,
  type NotifierConfig,
  type NotifierFromConfigOptions,
  type NotifierType,
  notifierConfigSchema,
  notifierConfigSchemaFor,
  notifierFromConfig,
  notifiersFromConfig,
  resolveSecret,
  type SecretInput,
  secretInputSchema,
  slackNotifierType,
  telegramNotifierType,
  webhookNotifierType,
} from "./notifier-config.js";
export { NotifierHub, type NotifierHubErrorContext, type NotifierHubOptions } from "./notifier-hub.js";
export {
  type NotifyPolicyOptions,
  type NotifyPolicyStats,
  notifyPolicyConfigShape,
  notifyPolicyShape,
  type PolicyDefaults,
  type PolicyErrorContext,
  PolicyNotifier,
  type PolicyRetryOptions,
  pickPolicyOptions,
  type RateWindowInput,
  withPolicy,
} from "./notify-policy.js";
export { formatSpan, RateLimiter, type RateWindow } from "./rate-limiter.js";
export { REDACTED, redactSecrets, Secret, safeOrigin } from "./secret.js";
export {
  escapeSlack,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  type SlackText,
  slackMessage,
} from "./slack-format.js";
export {
  SLACK_DEFAULTS,
  SlackNotifier,
  type SlackNotifierOptions,
  slackNotifierOptionsSchema,
} from "./slack-notifier.js";
export { escapeTelegram, TELEGRAM_TEXT_LIMIT, telegramText } from "./telegram-format.js";
export {
  describeTelegramError,
  isGroupChat,
  TELEGRAM_GROUP_DEFAULTS,
  TELEGRAM_PRIVATE_DEFAULTS,
  TelegramNotifier,
  type TelegramNotifierOptions,
  telegramNotifierOptionsSchema,
} from "./telegram-notifier.js";
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
