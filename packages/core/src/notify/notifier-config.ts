/**
 * Notifiers from configuration: one zod schema per notifier type, a discriminated union of them
 * on `type`, and `notifierFromConfig` that builds the notifier. Secrets come from the config or,
 * better, from environment variables: `{ env: "NAME" }`, or the documented default variable when
 * the field is left out (`TRADECRON_SLACK_WEBHOOK_URL`, ...).
 *
 * Types are values ({@link NotifierType}), so a package outside core adds its own and a host
 * combines them: `notifierFromConfig(entry, { types: [...CORE_NOTIFIER_TYPES, emailNotifierType] })`.
 */

import { z } from "zod";
import { ValidationError } from "../errors.js";
import type { Clock } from "../time/clock.js";
import { parseInput, positiveDurationSchema } from "../validation.js";
import { ConsoleNotifier } from "./console-notifier.js";
import { DiscordNotifier } from "./discord-notifier.js";
import type { FetchFunction } from "./http-delivery.js";
import { dashboardUrlSchema } from "./message-layout.js";
import type { Notifier, NotifierError } from "./notifier.js";
import {
  type NotifyPolicyOptions,
  notifyPolicyConfigShape,
  type PolicyErrorContext,
  PolicyNotifier,
} from "./notify-policy.js";
import { SlackNotifier } from "./slack-notifier.js";
import { TelegramNotifier } from "./telegram-notifier.js";
import { WebhookNotifier } from "./webhook-notifier.js";

/** A secret in a config file: the value itself, or `{ env: "NAME" }` to read it from the environment. */
export type SecretInput = string | { env: string };

/** zod schema of a {@link SecretInput}. */
export const secretInputSchema = z.union([
  z.string().min(1),
  z.strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
  }),
]);

/** What building a notifier from config may use besides the entry itself. */
export interface NotifierBuildContext {
  /** Where `{ env }` secrets are read (default `process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** The dashboard's address, for every notifier that links to it (an entry's own wins). */
  dashboardUrl?: string;
  clock?: Clock;
  fetch?: FetchFunction;
  /** Background failures of every notifier's policy. */
  onError?: (error: NotifierError, context: PolicyErrorContext) => void;
  /** The entry's path in the config file, for error messages (`notifiers.2`). */
  field: string;
}

/** One notifier type: its config schema (an object with a literal `type`) and its factory. */
export interface NotifierType {
  readonly type: string;
  readonly schema: z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape>;
  create(config: Record<string, unknown>, context: NotifierBuildContext): Notifier;
}

/**
 * Reads a secret: the value given, the variable named by `{ env }`, or `defaultEnv` when absent.
 * @throws ValidationError naming `field` and the variable (never its value).
 */
export function resolveSecret(
  input: SecretInput | undefined,
  defaultEnv: string | null,
  env: Readonly<Record<string, string | undefined>>,
  field: string,
): string {
  const fail = (message: string): never => {
    throw new ValidationError([{ field, message, code: "VALIDATION" }], { component: "notifierFromConfig" });
  };
  if (typeof input === "string") return input;
  const name = input?.env ?? defaultEnv;
  if (name === null) return fail("is required");
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    return fail(
      `environment variable ${name} is not set${input === undefined ? " (give the field, or set it)" : ""}`,
    );
  }
  return value.trim();
}

/** The entry's values for `keys`, leaving out the absent ones (the constructors apply defaults). */
function defined(config: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (config[key] !== undefined) out[key] = config[key];
  return out;
}

/** The secret field `key` of an entry, read as {@link resolveSecret} says. */
function secretField(
  config: Record<string, unknown>,
  key: string,
  defaultEnv: string | null,
  context: NotifierBuildContext,
): string {
  return resolveSecret(
    config[key] as SecretInput | undefined,
    defaultEnv,
    context.env,
    `${context.field}.${key}`,
  );
}

/** The policy keys of an entry, with the context's clock and error hook. */
function policyOf(config: Record<string, unknown>, context: NotifierBuildContext): NotifyPolicyOptions {
  return {
    ...defined(config, Object.keys(notifyPolicyConfigShape)),
    ...defined(context as unknown as Record<string, unknown>, ["clock", "onError"]),
  } as NotifyPolicyOptions;
}

const name = z.string().trim().min(1).max(100).optional();
const chatShape = {
  name,
  dashboardUrl: dashboardUrlSchema.optional(),
  timeout: positiveDurationSchema.optional(),
  ...notifyPolicyConfigShape,
};

/** What every chat notifier takes from an entry and the context. */
function chatCommon(config: Record<string, unknown>, context: NotifierBuildContext) {
  return {
    ...policyOf(config, context),
    ...defined({ dashboardUrl: context.dashboardUrl, fetch: context.fetch }, ["dashboardUrl", "fetch"]),
    ...defined(config, ["name", "dashboardUrl", "timeout"]),
  };
}

/** Environment variables read when a secret field is left out. */
export const NOTIFIER_ENV = Object.freeze({
  slackWebhookUrl: "TRADECRON_SLACK_WEBHOOK_URL",
  discordWebhookUrl: "TRADECRON_DISCORD_WEBHOOK_URL",
  telegramBotToken: "TRADECRON_TELEGRAM_BOT_TOKEN",
  webhookUrl: "TRADECRON_WEBHOOK_URL",
  webhookSecret: "TRADECRON_WEBHOOK_SECRET",
});

/** `{ type: "slack", url?, ... }`: a {@link SlackNotifier}. */
export const slackNotifierType: NotifierType = {
  type: "slack",
  schema: z.strictObject({ type: z.literal("slack"), url: secretInputSchema.optional(), ...chatShape }),
  create: (c, ctx) =>
    new SlackNotifier({
      url: secretField(c, "url", NOTIFIER_ENV.slackWebhookUrl, ctx),
      ...chatCommon(c, ctx),
    }),
};

/** `{ type: "discord", url?, username?, avatarUrl?, ... }`: a {@link DiscordNotifier}. */
export const discordNotifierType: NotifierType = {
  type: "discord",
  schema: z.strictObject({
    type: z.literal("discord"),
    url: secretInputSchema.optional(),
    username: z.string().optional(),
    avatarUrl: z.string().optional(),
    ...chatShape,
  }),
  create: (c, ctx) =>
    new DiscordNotifier({
      url: secretField(c, "url", NOTIFIER_ENV.discordWebhookUrl, ctx),
      ...defined(c, ["username", "avatarUrl"]),
      ...chatCommon(c, ctx),
    }),
};

/** `{ type: "telegram", chatId, botToken?, threadId?, disableNotification?, apiBase?, ... }`: a {@link TelegramNotifier}. */
export const telegramNotifierType: NotifierType = {
  type: "telegram",
  schema: z.strictObject({
    type: z.literal("telegram"),
    botToken: secretInputSchema.optional(),
    chatId: z.union([z.number(), z.string()]),
    threadId: z.number().optional(),
    disableNotification: z.boolean().optional(),
    apiBase: z.string().optional(),
    ...chatShape,
  }),
  create: (c, ctx) =>
    new TelegramNotifier({
      botToken: secretField(c, "botToken", NOTIFIER_ENV.telegramBotToken, ctx),
      chatId: c.chatId as number | string,
      ...defined(c, ["threadId", "disableNotification", "apiBase"]),
      ...chatCommon(c, ctx),
    }),
};

/**
 * `{ type: "webhook", url?, secret?, headers?, timeout?, attempts?, ... }`: a {@link WebhookNotifier}
 * (it retries itself), always behind a policy: with none of the policy keys set it filters
 * nothing and adds no limit, but it prints without the URL and the signing secret, which a bare
 * WebhookNotifier does not (its options are plain fields).
 */
export const webhookNotifierType: NotifierType = {
  type: "webhook",
  schema: z.strictObject({
    type: z.literal("webhook"),
    url: secretInputSchema.optional(),
    secret: secretInputSchema.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    attempts: z.number().optional(),
    ...chatShape,
  }),
  create: (c, ctx) => {
    const webhook = new WebhookNotifier({
      url: secretField(c, "url", NOTIFIER_ENV.webhookUrl, ctx),
      ...(c.secret !== undefined ? { secret: secretField(c, "secret", null, ctx) } : {}),
      ...defined(c, ["name", "headers", "timeout", "attempts"]),
      ...defined(ctx as unknown as Record<string, unknown>, ["clock"]),
    });
    return new PolicyNotifier(webhook, policyOf(c, ctx));
  },
};

/** `{ type: "console", format?, name?, ... }`: a {@link ConsoleNotifier} (to stderr), behind a policy. */
export const consoleNotifierType: NotifierType = {
  type: "console",
  schema: z.strictObject({
    type: z.literal("console"),
    name,
    format: z.enum(["line", "json"]).optional(),
    ...notifyPolicyConfigShape,
  }),
  create: (c, ctx) =>
    new PolicyNotifier(new ConsoleNotifier(defined(c, ["name", "format"])), policyOf(c, ctx)),
};

/** The notifier types core knows. */
export const CORE_NOTIFIER_TYPES: readonly NotifierType[] = Object.freeze([
  slackNotifierType,
  discordNotifierType,
  telegramNotifierType,
  webhookNotifierType,
  consoleNotifierType,
]);

/** The discriminated union (on `type`) of the given types' config schemas. */
export function notifierConfigSchemaFor(types: readonly NotifierType[]) {
  const [first, ...rest] = types.map((t) => t.schema);
  if (!first)
    throw new ValidationError([
      { field: "types", message: "must list at least one type", code: "VALIDATION" },
    ]);
  return z.discriminatedUnion("type", [first, ...rest]);
}

/** The config schema of core's notifiers: `{ type: "slack" | "discord" | "telegram" | "webhook" | "console", ... }`. */
export const notifierConfigSchema = notifierConfigSchemaFor(CORE_NOTIFIER_TYPES);

/** A config entry of one of core's notifiers. */
export type NotifierConfig = z.input<typeof notifierConfigSchema>;

/** Options of {@link notifierFromConfig}. */
export interface NotifierFromConfigOptions extends Partial<Omit<NotifierBuildContext, "field">> {
  /** The types understood (default {@link CORE_NOTIFIER_TYPES}; add `emailNotifierType` from `@tradecron/notify-email`). */
  types?: readonly NotifierType[];
  /** The entry's path, for messages (default `notifier`). */
  field?: string;
}

/**
 * Builds the notifier a config entry describes.
 *
 * ```ts
 * notifierFromConfig({ type: "slack", minSeverity: "warning" }); // url from TRADECRON_SLACK_WEBHOOK_URL
 * notifierFromConfig({ type: "telegram", chatId: -1001234567890, botToken: { env: "TG_TOKEN" } });
 * ```
 *
 * @throws ValidationError naming the field (`notifier.minSeverity`, `notifier.url`), never a secret.
 */
export function notifierFromConfig(config: unknown, options: NotifierFromConfigOptions = {}): Notifier {
  const types = options.types ?? CORE_NOTIFIER_TYPES;
  const field = options.field ?? "notifier";
  const entry = parseInput(notifierConfigSchemaFor(types), config, "notifierFromConfig", field) as Record<
    string,
    unknown
  > & { type: string };
  const type = types.find((t) => t.type === entry.type) as NotifierType;
  try {
    return type.create(entry, {
      env: options.env ?? process.env,
      field,
      ...(options.dashboardUrl ? { dashboardUrl: options.dashboardUrl } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  } catch (error) {
    // A notifier's constructor names its own option (`chatId`); in a config file it is `notifiers.2.chatId`.
    if (!(error instanceof ValidationError)) throw error;
    const prefixed = error.issues.map((i) => ({
      ...i,
      field: i.field.startsWith(`${field}.`) ? i.field : i.field ? `${field}.${i.field}` : field,
    }));
    throw new ValidationError(prefixed, { component: "notifierFromConfig" });
  }
}

/** Builds every entry of a config list; errors name the entry (`notifiers.2.chatId`). */
export function notifiersFromConfig(
  entries: readonly unknown[],
  options: NotifierFromConfigOptions = {},
): Notifier[] {
  const field = options.field ?? "notifiers";
  return entries.map((entry, i) => notifierFromConfig(entry, { ...options, field: `${field}.${i}` }));
}
