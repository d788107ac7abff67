/**
 * IbkrBroker's options: zod schema, defaults, and the parsed form the parts receive.
 */

import { type BackoffPolicy, type Clock, clockSchema, type Logger } from "@tradecron/core";
import { z } from "zod";
import { parseWith } from "./validation.js";

/**
 * The client id used when none is given. It is fixed on purpose: IB lets only the client id that
 * placed an order cancel it, so an id that changed on reconnect would strand our own orders.
 * Pick another (any integer) if a different program on the same TWS already uses this one.
 */
export const DEFAULT_CLIENT_ID = 101;

/** Paper-trading TWS. Live TWS is 7496; IB Gateway is 4002 (paper) and 4001 (live). */
export const DEFAULT_PORT = 7497;

/** IB's limit is 50 messages per second per client; we stay under it. */
export const MAX_REQUESTS_PER_SECOND = 50;

/** Contract details for a symbol, where SMART/USD stock is not what you mean. */
export interface ContractOverride {
  /** IB contract id: the unambiguous way to name an instrument. */
  conId?: number;
  /** Security type (default STK; ETFs are STK at IB). */
  secType?: "STK";
  /** Routing exchange (default SMART). */
  exchange?: string;
  /** Primary listing exchange, to disambiguate (NASDAQ, NYSE, ARCA, LSE, ...). */
  primaryExchange?: string;
  /** Trading currency (default the `currency` option). */
  currency?: string;
  /** IB's own symbol when it differs from the ticker (`BRK B` for `BRK.B` is done for you). */
  ibSymbol?: string;
}

/** Options of `IbkrBroker`. */
export interface IbkrBrokerOptions {
  /** Broker name in logs and records (default `ibkr`). */
  name?: string;
  /** TWS / IB Gateway host (default 127.0.0.1). */
  host?: string;
  /** API port (default 7497, paper TWS; 7496 live TWS; 4002 paper / 4001 live IB Gateway). */
  port?: number;
  /** The API client id, fixed for the life of the process (default {@link DEFAULT_CLIENT_ID}). */
  clientId?: number;
  /**
   * The account to trade, one of the login's managed accounts (checked on connect). Optional when
   * the login manages exactly one account.
   */
  account?: string;
  /** Currency of contracts without an override (default USD). */
  currency?: string;
  /** Per-symbol contract details (exchange, primary exchange, currency, conId). */
  contracts?: Record<string, ContractOverride>;
  /** What `cancelAllOrders` (pause-all) cancels: `client` (default) or `global`; see the README. */
  cancelAll?: "client" | "global";
  /** Messages per second to TWS, at most 50 (default 40). */
  maxRequestsPerSecond?: number;
  /** Timeouts in ms. */
  timeouts?: {
    /** From opening the socket to nextValidId and managedAccounts (default 10,000). */
    connectMs?: number;
    /** One request and its answer (default 10,000). */
    requestMs?: number;
    /** A placeOrder and its first openOrder/orderStatus (default 15,000). */
    orderAckMs?: number;
    /** A cancel and the order's final status (default 10,000). */
    cancelMs?: number;
    /**
     * How long a call made while the adapter is reconnecting waits for the connection before it
     * fails with BrokerUnavailableError (default 5,000; 0 fails at once).
     */
    reconnectWaitMs?: number;
  };
  /** Reconnect backoff: `baseMs * factor^n` capped at `maxMs`, spread by +/- `jitter` (default 1 s, 2, 60 s, 0.3). */
  reconnect?: Partial<BackoffPolicy>;
  /** Heartbeat (reqCurrentTime) interval in ms; a missed answer drops a half-open socket (default 30,000; 0 = off). */
  heartbeatMs?: number;
  /** Time source for timeouts, backoff, pacing and heartbeats (default the system clock). */
  clock?: Clock;
  /** Random source for the reconnect jitter (default Math.random). */
  random?: () => number;
  /** pino-compatible logger (default silent). */
  logger?: Logger;
  /** Receives background errors (listener failures, failed reconnects). */
  onError?: (error: Error, context: string) => void;
}

const isFunction = (v: unknown) => typeof v === "function";
const ms = (max: number) => z.number().int().min(0).max(max);

const contractSchema = z.strictObject({
  conId: z.number().int().positive().optional(),
  secType: z.literal("STK").optional(),
  exchange: z.string().trim().min(1).max(20).optional(),
  primaryExchange: z.string().trim().min(1).max(20).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
    .optional(),
  ibSymbol: z.string().trim().min(1).max(32).optional(),
});

const optionsSchema = z.strictObject({
  name: z.string().trim().min(1).max(64).default("ibkr"),
  host: z.string().trim().min(1).max(255).default("127.0.0.1"),
  port: z.number().int().min(1).max(65_535).default(DEFAULT_PORT),
  clientId: z.number().int().min(0).max(2_147_483_647).default(DEFAULT_CLIENT_ID),
  account: z.string().trim().min(1).max(64).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as USD")
    .default("USD"),
  contracts: z.record(z.string().trim().min(1).max(32), contractSchema).default({}),
  cancelAll: z.enum(["client", "global"]).default("client"),
  maxRequestsPerSecond: z
    .number()
    .positive()
    .max(MAX_REQUESTS_PER_SECOND, `IB allows ${MAX_REQUESTS_PER_SECOND} messages per second`)
    .default(40),
  timeouts: z
    .strictObject({
      connectMs: ms(86_400_000).min(1).default(10_000),
      requestMs: ms(86_400_000).min(1).default(10_000),
      orderAckMs: ms(86_400_000).min(1).default(15_000),
      cancelMs: ms(86_400_000).min(1).default(10_000),
      reconnectWaitMs: ms(600_000).default(5_000),
    })
    .prefault({}),
  reconnect: z
    .strictObject({
      baseMs: ms(3_600_000).min(1).default(1_000),
      factor: z.number().min(1).max(10).default(2),
      maxMs: ms(3_600_000).min(1).default(60_000),
      jitter: z.number().min(0).max(1).default(0.3),
    })
    .prefault({}),
  heartbeatMs: ms(3_600_000).default(30_000),
  clock: clockSchema.optional(),
  random: z.custom<() => number>(isFunction, { message: "must be a function" }).optional(),
  logger: z
    .custom<Logger>((v) => typeof v === "object" && v !== null, { message: "must be a logger" })
    .optional(),
  onError: z
    .custom<(error: Error, context: string) => void>(isFunction, { message: "must be a function" })
    .optional(),
});

/** The options after defaults. */
export type ParsedOptions = z.output<typeof optionsSchema>;

/** Parses the options, or throws a ValidationError naming the field (`port`, `timeouts.requestMs`, ...). */
export function parseOptions(input: unknown): ParsedOptions {
  return parseWith(optionsSchema, input ?? {});
}
