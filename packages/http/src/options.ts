/**
 * Options of `createRouter`, validated with zod. There are no default credentials: the host
 * configures tokens, or says in so many words that it wants no auth at all.
 */

import { type Clock, clockSchema, durationSchema, type Logger, ValidationError } from "@tradecron/core";
import { z } from "zod";
import type { Role } from "./auth/roles.js";
import { sha256, type TokenSpec } from "./auth/tokens.js";
import { issuesOf } from "./validation.js";

/** Options of `createRouter`. */
export interface RouterOptions {
  /** Bearer tokens (required unless `dangerouslyDisableAuth`). */
  auth?: {
    /** Each token has a name (the audit actor of what it does) and a role. Give the token or its SHA-256 (hex). */
    tokens: TokenSpec[];
    /** Dashboard sessions. */
    session?: {
      /** Lifetime of a session (ms or '8h'). Default 8 h. */
      ttl?: number | string;
      /** Sessions kept at once; the oldest is dropped past it. Default 1000. */
      maxSessions?: number;
      /** Cookie name. Default `tradecron_session`. */
      cookieName?: string;
      /** `Secure` cookie attribute: `auto` (when the request came over HTTPS) or always/never. Default `auto`. */
      secureCookie?: boolean | "auto";
    };
  };
  /**
   * Serve everything without authentication, every caller acting as `anonymous` with the admin
   * role. Only for a machine nobody else can reach. Must be exactly `true`.
   */
  dangerouslyDisableAuth?: boolean;
  /** Endpoints that answer without credentials. Default none. */
  public?: {
    /** `/health` answers anyone (with the verdict only; reasons need a token). */
    health?: boolean;
    /** `/metrics` answers anyone (Prometheus scrapers without a token). */
    metrics?: boolean;
  };
  /** Let the API start, stop, pause and resume the scheduler instance itself. Default false. */
  lifecycleControl?: boolean;
  /** Rate limits per token (and per client address for sign-in), per minute. */
  rateLimits?: { mutationsPerMinute?: number; triggersPerMinute?: number; signInsPerMinute?: number };
  /** Largest JSON body accepted, in bytes. Default 65536. */
  bodyLimit?: number;
  /** Server-sent events. */
  events?: {
    /** Events kept for resuming with Last-Event-ID. Default 1000. */
    replay?: number;
    /** Interval of the heartbeat comment (ms or '15s'). Default 15 s. */
    heartbeat?: number | string;
    /** Concurrent streams. Default 100. */
    maxClients?: number;
  };
  /** Serve the dashboard under `/ui/`. Default true. */
  dashboard?: boolean;
  /** Also collect prom-client's default process metrics into this router's registry. Default false. */
  defaultMetrics?: boolean;
  /** Where the router logs. Default the scheduler's logger. */
  logger?: Logger;
  /** Time source of sessions and heartbeats. Default the scheduler's clock. */
  clock?: Clock;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.@:-]{0,99}$/;
/** Shortest token accepted: 16 characters. `openssl rand -base64 32` gives 44. */
export const MIN_TOKEN_LENGTH = 16;

const roleSchema = z.enum(["viewer", "operator", "admin"]);
const tokenSchema = z
  .strictObject({
    name: z.string().regex(TOKEN_NAME, "must be 1-100 characters of letters, digits, space and _ . @ : -"),
    role: roleSchema,
    token: z
      .string()
      .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`)
      .max(1024, "must be at most 1024 characters")
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 digest in hex (64 characters)")
      .optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.token === undefined) === (t.sha256 === undefined)) {
      ctx.addIssue({ code: "custom", path: ["token"], message: "give exactly one of token and sha256" });
    }
  });

const schema = z
  .strictObject({
    auth: z
      .strictObject({
        tokens: z.array(tokenSchema).min(1, "configure at least one token").max(1000),
        session: z
          .strictObject({
            ttl: durationSchema.optional(),
            maxSessions: z.number().int().min(1).max(1_000_000).optional(),
            cookieName: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,64}$/)
              .optional(),
            secureCookie: z.union([z.boolean(), z.literal("auto")]).optional(),
          })
          .optional(),
      })
      .optional(),
    dangerouslyDisableAuth: z.boolean().optional(),
    public: z.strictObject({ health: z.boolean().optional(), metrics: z.boolean().optional() }).optional(),
    lifecycleControl: z.boolean().optional(),
    rateLimits: z
      .strictObject({
        mutationsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
        triggersPerMinute: z.number().int().min(1).max(1_000_000).optional(),
        signInsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
      })
      .optional(),
    bodyLimit: z.number().int().min(1024).max(10_485_760).optional(),
    events: z
      .strictObject({
        replay: z.number().int().min(0).max(100_000).optional(),
        heartbeat: durationSchema.optional(),
        maxClients: z.number().int().min(1).max(10_000).optional(),
      })
      .optional(),
    dashboard: z.boolean().optional(),
    defaultMetrics: z.boolean().optional(),
    logger: z.custom<Logger>((v) => typeof v === "object" && v !== null).optional(),
    clock: clockSchema.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.auth === undefined && o.dangerouslyDisableAuth !== true) {
      ctx.addIssue({
        code: "custom",
        path: ["auth"],
        message:
          "no auth configured: give auth.tokens, or dangerouslyDisableAuth: true to serve without authentication",
      });
    }
    if (o.auth !== undefined && o.dangerouslyDisableAuth === true) {
      ctx.addIssue({
        code: "custom",
        path: ["dangerouslyDisableAuth"],
        message: "cannot be combined with auth.tokens",
      });
    }
    const names = new Set<string>();
    const digests = new Set<string>();
    for (const [i, t] of (o.auth?.tokens ?? []).entries()) {
      if (names.has(t.name)) {
        ctx.addIssue({
          code: "custom",
          path: ["auth", "tokens", i, "name"],
          message: `duplicate token name '${t.name}'`,
        });
      }
      names.add(t.name);
      const digest = t.token !== undefined ? sha256(t.token).toString("hex") : (t.sha256 ?? "").toLowerCase();
      if (digests.has(digest)) {
        // The message never quotes a token.
        ctx.addIssue({
          code: "custom",
          path: ["auth", "tokens", i, "token"],
          message: "the same token is configured twice",
        });
      }
      digests.add(digest);
    }
  });

/** Options with every default filled in. */
export interface ResolvedOptions {
  tokens: TokenSpec[] | null;
  sessionTtlMs: number;
  maxSessions: number;
  cookieName: string;
  secureCookie: boolean | "auto";
  publicHealth: boolean;
  publicMetrics: boolean;
  lifecycleControl: boolean;
  mutationsPerMinute: number;
  triggersPerMinute: number;
  signInsPerMinute: number;
  bodyLimit: number;
  replay: number;
  heartbeatMs: number;
  maxClients: number;
  dashboard: boolean;
  defaultMetrics: boolean;
  logger: Logger | undefined;
  clock: Clock | undefined;
}

/** Validates the options; throws a ValidationError naming the field (and never quoting a token). */
export function resolveOptions(options: unknown): ResolvedOptions {
  const result = schema.safeParse(options ?? {});
  if (!result.success) {
    // No cause: the zod error holds the input, and the input holds the tokens.
    throw new ValidationError(issuesOf(result.error), { component: "http" });
  }
  const o = result.data;
  return {
    tokens: o.auth ? (o.auth.tokens as TokenSpec[]) : null,
    sessionTtlMs: o.auth?.session?.ttl ?? 8 * 3_600_000,
    maxSessions: o.auth?.session?.maxSessions ?? 1000,
    cookieName: o.auth?.session?.cookieName ?? "tradecron_session",
    secureCookie: o.auth?.session?.secureCookie ?? "auto",
    publicHealth: o.public?.health ?? false,
    publicMetrics: o.public?.metrics ?? false,
    lifecycleControl: o.lifecycleControl ?? false,
    mutationsPerMinute: o.rateLimits?.mutationsPerMinute ?? 120,
    triggersPerMinute: o.rateLimits?.triggersPerMinute ?? 10,
    signInsPerMinute: o.rateLimits?.signInsPerMinute ?? 10,
    bodyLimit: o.bodyLimit ?? 65_536,
    replay: o.events?.replay ?? 1000,
    heartbeatMs: o.events?.heartbeat ?? 15_000,
    maxClients: o.events?.maxClients ?? 100,
    dashboard: o.dashboard ?? true,
    defaultMetrics: o.defaultMetrics ?? false,
    logger: o.logger,
    clock: o.clock,
  };
}

/** The role every caller gets when auth is off. */
export const INSECURE_IDENTITY: { name: string; role: Role } = { name: "anonymous", role: "admin" };
