/**
 * `@tradecron/broker-ibkr`: IbkrBroker, core's Broker contract over Interactive Brokers' TWS and
 * IB Gateway (through @stoqey/ib), idempotent on the client order id across reconnects, TWS's
 * nightly restart and restarts of your own process.
 *
 * @packageDocumentation
 */

export type { FarmStatus, IbkrConnectionDetail, LinkState } from "./connection-detail.js";
export { CONNECTIVITY, IbkrConfigError, isInformational, isTransient, toBrokerError } from "./ib-errors.js";
export { IbkrBroker } from "./ibkr-broker.js";
export {
  type ContractOverride,
  DEFAULT_CLIENT_ID,
  DEFAULT_PORT,
  type IbkrBrokerOptions,
  MAX_REQUESTS_PER_SECOND,
} from "./options.js";
