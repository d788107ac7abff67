/**
 * `@tradecron/broker-alpaca`: AlpacaBroker, core's Broker contract over Alpaca's Trading API v2
 * (REST with fetch, the trade_updates stream), idempotent under every fault. The local fake
 * Alpaca for tests is in `@tradecron/broker-alpaca/testing`.
 *
 * @packageDocumentation
 */

export { AlpacaBroker, type AlpacaHealth, type ConnectionListener } from "./alpaca-broker.js";
export {
  alpacaInstant,
  applyCalendarDifferences,
  type CalendarDifference,
  type CalendarOverrideSuggestion,
  diffCalendars,
  type SessionHours,
} from "./calendar-diff.js";
export { MAX_CLIENT_ORDER_ID_LENGTH, wireClientOrderId } from "./client-order-ids.js";
export { AlpacaAuthError } from "./errors.js";
export {
  type AlpacaBrokerOptions,
  DATA_BASE_URL,
  LIVE_BASE_URL,
  PAPER_BASE_URL,
  type StreamOwnership,
  type UpdatesMode,
} from "./options.js";
export type { UpdatesHealth } from "./order-feed.js";
export type { RestHealth } from "./rest-transport.js";
export type { SubmitStats } from "./submitter.js";
export type { StreamState } from "./trade-stream.js";
export type { AlpacaCalendarDay } from "./wire.js";
