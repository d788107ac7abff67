/**
 * EmailNotifier: sends each notification as an email over SMTP with nodemailer (the field's
 * well-kept client: STARTTLS and implicit TLS, AUTH, pooling, RFC 2047 headers), behind core's
 * delivery policy. It lives in its own package so that `@tradecron/core` carries no SMTP code.
 *
 * TLS fails safe: with credentials, `requireTLS` defaults to true (the password never crosses
 * the wire in clear), and certificates are verified unless told otherwise. Failures are typed:
 * connection errors, timeouts and 4xx replies (421, 450, 451, 452) are retryable; 5xx replies and
 * authentication failures are final. Neither the password nor the URL reaches an error message.
 */

import {
  ChatNotifier,
  type DurationInput,
  dashboardUrlSchema,
  type Notification,
  NotifierError,
  type NotifyPolicyOptions,
  notifyPolicyShape,
  type PolicyDefaults,
  parseInput,
  parseNotification,
  positiveDurationSchema,
  REDACTED,
  redactSecrets,
  Secret,
  urlSchema,
} from "@tradecron/core";
import nodemailer from "nodemailer";
import { z } from "zod";
import { emailContent } from "./email-format.js";

/** Any transport with nodemailer's `sendMail` (a nodemailer transporter for SES, a pool...). */
export interface EmailTransport {
  sendMail(message: {
    from: string;
    to: string[];
    cc?: string[];
    bcc?: string[];
    subject: string;
    text: string;
    html: string;
    headers: Record<string, string>;
    priority: "high" | "normal";
  }): Promise<unknown>;
  close?(): void;
}

/** TLS settings of the SMTP connection. */
export interface EmailTlsOptions {
  /** Certificates to trust besides the system's (PEM). */
  ca?: string | string[];
  /** The name to verify the certificate against (default the host). */
  servername?: string;
  /** Verify the server's certificate (default true). Turn off only for a test server. */
  rejectUnauthorized?: boolean;
  /** Oldest TLS version accepted (default TLSv1.2). */
  minVersion?: "TLSv1.2" | "TLSv1.3";
}

/** An SMTP server. */
export interface SmtpOptions {
  host: string;
  /** Default 465 with `secure`, else 587. */
  port?: number;
  /** Implicit TLS from the first byte (port 465). Default: true for port 465. */
  secure?: boolean;
  /** Refuse to go on without STARTTLS. Default: true when `user` is set. */
  requireTLS?: boolean;
  user?: string;
  /** A secret. */
  password?: string;
  tls?: EmailTlsOptions;
}

/** Options of {@link EmailNotifier}: who, where, and core's policy keys. */
export interface EmailNotifierOptions extends NotifyPolicyOptions {
  /** The sender: `"tradecron <alerts@example.com>"`. */
  from: string;
  to: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  /** Put before every subject (default `[tradecron]`; `""` for none). */
  subjectPrefix?: string;
  /** The SMTP server. One of `smtp`, `url` and `transport`. */
  smtp?: SmtpOptions;
  /** The SMTP server as a URL, `smtps://user:password@smtp.example.com:465` (a secret). */
  url?: string;
  /** Your own nodemailer transporter (SES, a pool, a test double). */
  transport?: EmailTransport;
  /** Name in error reports and stats (default `email`). */
  name?: string;
  /** The dashboard's address: messages link to it. */
  dashboardUrl?: string;
  /** Connection, greeting and socket timeout of SMTP (default 30 s; nodemailer's own timers). */
  timeout?: DurationInput;
}

/** Five a minute: a storm becomes a few mails and a summary, not an inbox flood. */
export const EMAIL_DEFAULTS: PolicyDefaults = {
  rateLimit: [{ limit: 5, interval: "1m" }],
  retry: { attempts: 3, baseMs: 2_000 },
};

const address = z
  .string()
  .trim()
  .min(3)
  .max(998)
  .refine((a) => /@/.test(a) && !/[\r\n]/.test(a), {
    message: "must be an email address (Name <user@example.com> or user@example.com)",
  });
const addresses = z.union([address, z.array(address).min(1).max(100)]).transform((a) => [a].flat());

const smtpSchema = z.strictObject({
  host: z.string().trim().min(1).max(253),
  port: z.int().min(1).max(65_535).optional(),
  secure: z.boolean().optional(),
  requireTLS: z.boolean().optional(),
  user: z.string().min(1).max(500).optional(),
  password: z.string().min(1).max(1_000).optional(),
  tls: z
    .strictObject({
      ca: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
      servername: z.string().min(1).optional(),
      rejectUnauthorized: z.boolean().optional(),
      minVersion: z.enum(["TLSv1.2", "TLSv1.3"]).optional(),
    })
    .optional(),
});

const smtpUrl = urlSchema(["smtp:", "smtps:"], "must be an smtp:// or smtps:// URL");

const transportSchema = z.custom<EmailTransport>(
  (v) => typeof v === "object" && v !== null && typeof (v as EmailTransport).sendMail === "function",
  { message: "must have a sendMail function (a nodemailer transporter)" },
);

/** zod schema of {@link EmailNotifierOptions}. */
export const emailNotifierOptionsSchema = z
  .strictObject({
    from: address,
    to: addresses,
    cc: addresses.optional(),
    bcc: addresses.optional(),
    subjectPrefix: z.string().max(100).default("[tradecron]"),
    smtp: smtpSchema.optional(),
    url: smtpUrl.optional(),
    transport: transportSchema.optional(),
    name: z.string().trim().min(1).max(100).default("email"),
    dashboardUrl: dashboardUrlSchema.optional(),
    timeout: positiveDurationSchema.default(30_000),
    ...notifyPolicyShape,
  })
  .refine((o) => [o.smtp, o.url, o.transport].filter((x) => x !== undefined).length === 1, {
    message: "give exactly one of smtp, url and transport",
    path: ["smtp"],
  });

/** SMTP reply codes that say "try again later". */
const TRANSIENT_REPLY = new Set([421, 450, 451, 452]);
/** nodemailer error codes of a connection that failed, not of a refused message. */
const TRANSIENT_CODE = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ECONNREFUSED", "ECONNRESET"]);

/** Sends notifications as emails. */
export class EmailNotifier extends ChatNotifier {
  readonly #transport: EmailTransport;

  /** @throws ValidationError naming the bad option (never quoting a password or the URL). */
  constructor(options: EmailNotifierOptions) {
    const o = parseInput(emailNotifierOptionsSchema, options, "EmailNotifier");
    const secrets: (string | Secret)[] = [];
    let transport: EmailTransport;
    let destination: string;
    if (o.transport) {
      transport = o.transport;
      destination = "custom transport";
    } else if (o.url) {
      const url = new URL(o.url);
      secrets.push(new Secret(o.url), decodeURIComponent(url.password), url.password);
      transport = nodemailer.createTransport({
        url: o.url,
        connectionTimeout: o.timeout,
        greetingTimeout: o.timeout,
        socketTimeout: o.timeout,
      } as never);
      destination = `${url.protocol}//${url.host}`;
    } else {
      const s = o.smtp as z.output<typeof smtpSchema>;
      if (s.password) secrets.push(new Secret(s.password));
      const secure = s.secure ?? s.port === 465;
      transport = nodemailer.createTransport({
        host: s.host,
        port: s.port ?? (secure ? 465 : 587),
        secure,
        requireTLS: s.requireTLS ?? s.user !== undefined,
        ...(s.user ? { auth: { user: s.user, pass: s.password ?? "" } } : {}),
        tls: {
          rejectUnauthorized: s.tls?.rejectUnauthorized ?? true,
          minVersion: s.tls?.minVersion ?? "TLSv1.2",
          ...(s.tls?.ca ? { ca: s.tls.ca } : {}),
          ...(s.tls?.servername ? { servername: s.tls.servername } : {}),
        },
        connectionTimeout: o.timeout,
        greetingTimeout: o.timeout,
        socketTimeout: o.timeout,
      });
      destination = `smtp${secure ? "s" : ""}://${s.host}:${s.port ?? (secure ? 465 : 587)}`;
    }
    const send = async (notification: Notification) => {
      const n = parseNotification(notification, `notifier ${o.name}`);
      const content = emailContent(n, {
        subjectPrefix: o.subjectPrefix,
        dashboardUrl: o.dashboardUrl ?? null,
      });
      let result: unknown;
      try {
        result = await transport.sendMail({
          from: o.from,
          to: o.to,
          ...(o.cc ? { cc: o.cc } : {}),
          ...(o.bcc ? { bcc: o.bcc } : {}),
          ...content,
        });
      } catch (error) {
        throw smtpError(error, o.name, destination, secrets);
      }
      // Some recipients refused: the others have it, so a retry would send it twice to them.
      const {
        accepted = [],
        rejected = [],
        rejectedErrors = [],
      } = (result ?? {}) as {
        accepted?: unknown[];
        rejected?: unknown[];
        rejectedErrors?: { response?: unknown }[];
      };
      if (rejected.length > 0) {
        const why = rejectedErrors.map((e) => String(e.response ?? "")).filter(Boolean)[0] ?? "refused";
        throw new NotifierError(
          redactSecrets(
            `notifier ${o.name}: sending to ${destination}: delivered to ${accepted.map(String).join(", ") || "nobody"} but refused for ${rejected.map(String).join(", ")}: ${why}`,
            secrets,
          ),
          { details: { notifier: o.name, accepted: accepted.map(String), rejected: rejected.map(String) } },
        );
      }
    };
    super("email", { name: o.name, notify: send }, o, EMAIL_DEFAULTS, destination);
    this.#transport = transport;
  }

  /** Sends pending summaries, then closes the SMTP connections. */
  override async close(): Promise<void> {
    await super.close();
    this.#transport.close?.();
  }
}

/** A nodemailer failure as a NotifierError: retryable or not, scrubbed of every secret. */
function smtpError(
  error: unknown,
  notifier: string,
  destination: string,
  secrets: (string | Secret)[],
): NotifierError {
  const e = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    responseCode?: unknown;
    response?: unknown;
  };
  const code = typeof e.code === "string" ? e.code : null;
  const reply = typeof e.responseCode === "number" ? e.responseCode : null;
  const message = String(e.message ?? error);
  // A certificate that does not verify will not verify on the next try either.
  const badCertificate = /certificate|CERT_|self.signed/i.test(message);
  const retryable =
    !badCertificate &&
    ((reply !== null && TRANSIENT_REPLY.has(reply)) ||
      (reply === null && code !== null && TRANSIENT_CODE.has(code)));
  const said = redactSecrets(message, secrets).replace(/(AUTH \w+) \S+/g, `$1 ${REDACTED}`);
  // No raw cause: nodemailer's errors carry the SMTP dialogue, and AUTH lines hold credentials.
  return new NotifierError(
    `notifier ${notifier}: sending to ${destination} failed${code ? ` (${code})` : ""}: ${said}`,
    {
      retryable,
      details: {
        notifier,
        ...(code ? { smtpCode: code } : {}),
        ...(reply !== null ? { responseCode: reply } : {}),
      },
    },
  );
}
