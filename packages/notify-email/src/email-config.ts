/**
 * The `email` entry of a tradecron config file, for core's `notifierFromConfig`:
 *
 * ```ts
 * import { CORE_NOTIFIER_TYPES, notifiersFromConfig } from "@tradecron/core";
 * import { emailNotifierType } from "@tradecron/notify-email";
 * const notifiers = notifiersFromConfig(config.notifiers, { types: [...CORE_NOTIFIER_TYPES, emailNotifierType] });
 * ```
 *
 * `{ type: "email", from, to, smtp: { host, port, user, password: { env: "SMTP_PASSWORD" } } }`,
 * or `url` (default: the `TRADECRON_SMTP_URL` variable) when `smtp` is left out. A password left
 * out with a `user` is read from `TRADECRON_SMTP_PASSWORD`.
 */

import {
  type NotifierType,
  notifyPolicyConfigShape,
  resolveSecret,
  type SecretInput,
  secretInputSchema,
} from "@tradecron/core";
import { z } from "zod";
import { EmailNotifier, type EmailNotifierOptions, type SmtpOptions } from "./email-notifier.js";

/** Environment variables read when a secret is left out of the config. */
export const EMAIL_ENV = Object.freeze({
  smtpUrl: "TRADECRON_SMTP_URL",
  smtpPassword: "TRADECRON_SMTP_PASSWORD",
});

const list = z.union([z.string(), z.array(z.string())]);

/** `{ type: "email", ... }`: an {@link EmailNotifier}. */
export const emailNotifierType: NotifierType = {
  type: "email",
  schema: z.strictObject({
    type: z.literal("email"),
    from: z.string(),
    to: list,
    cc: list.optional(),
    bcc: list.optional(),
    subjectPrefix: z.string().optional(),
    url: secretInputSchema.optional(),
    smtp: z
      .strictObject({
        host: z.string(),
        port: z.number().optional(),
        secure: z.boolean().optional(),
        requireTLS: z.boolean().optional(),
        user: z.string().optional(),
        password: secretInputSchema.optional(),
        tls: z
          .strictObject({
            ca: z.union([z.string(), z.array(z.string())]).optional(),
            servername: z.string().optional(),
            rejectUnauthorized: z.boolean().optional(),
            minVersion: z.enum(["TLSv1.2", "TLSv1.3"]).optional(),
          })
          .optional(),
      })
      .optional(),
    name: z.string().optional(),
    dashboardUrl: z.string().optional(),
    timeout: z.union([z.number(), z.string()]).optional(),
    ...notifyPolicyConfigShape,
  }),
  create: (c, ctx) => {
    const {
      type: _type,
      url,
      smtp,
      ...rest
    } = c as Record<string, unknown> & { smtp?: Record<string, unknown> };
    const server: Pick<EmailNotifierOptions, "smtp" | "url"> = smtp
      ? {
          smtp: {
            ...(smtp as unknown as SmtpOptions),
            ...(smtp.user !== undefined
              ? {
                  password: resolveSecret(
                    smtp.password as SecretInput | undefined,
                    EMAIL_ENV.smtpPassword,
                    ctx.env,
                    `${ctx.field}.smtp.password`,
                  ),
                }
              : {}),
          },
        }
      : {
          url: resolveSecret(url as SecretInput | undefined, EMAIL_ENV.smtpUrl, ctx.env, `${ctx.field}.url`),
        };
    const dashboardUrl = (rest.dashboardUrl as string | undefined) ?? ctx.dashboardUrl;
    return new EmailNotifier({
      ...(rest as unknown as EmailNotifierOptions),
      ...server,
      ...(dashboardUrl ? { dashboardUrl } : {}),
      ...(ctx.clock ? { clock: ctx.clock } : {}),
      ...(ctx.onError ? { onError: ctx.onError } : {}),
    });
  },
};
