/**
 * `@tradecron/notify-email`: tradecron notifications by email (SMTP through nodemailer), with
 * core's filters, rate limit, retries and storm summaries.
 *
 * @packageDocumentation
 */

export { EMAIL_ENV, emailNotifierType } from "./email-config.js";
export { type EmailContent, emailContent, escapeHtml } from "./email-format.js";
export {
  EMAIL_DEFAULTS,
  EmailNotifier,
  type EmailNotifierOptions,
  type EmailTlsOptions,
  type EmailTransport,
  emailNotifierOptionsSchema,
  type SmtpOptions,
} from "./email-notifier.js";
