/**
 * The broker contract, PaperBroker (the embedded default) and its fault injection.
 *
 * @packageDocumentation
 */

export {
  type Broker,
  type BrokerAccount,
  BrokerAuthError,
  type BrokerChannelHealth,
  type BrokerClock,
  type BrokerConnectionDetail,
  type BrokerConnectionListener,
  type BrokerOrder,
  type BrokerOrderStatus,
  type BrokerPosition,
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  type CancelAllResult,
  FINAL_ORDER_STATUSES,
  type OrderRef,
  type OrderRequest,
  type OrderUpdate,
} from "./broker.js";
export { FaultInjector, PAPER_BROKER_METHODS, type PaperBrokerMethod } from "./fault-injector.js";
export {
  PaperBroker,
  type PaperBrokerOptions,
  type PaperOrderEvent,
  type PaperSession,
} from "./paper-broker.js";
export type { PriceTickInput, Quote, QuoteFunction } from "./paper-prices.js";
