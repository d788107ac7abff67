/**
 * `@tradecron/broker-ibkr/testing`: a fake TWS / IB Gateway that speaks the real TWS socket
 * protocol, for testing code that trades through IbkrBroker without an IB account.
 *
 * @packageDocumentation
 */

export { DEFAULT_SYMBOLS, type FakeOrder, type FakeSymbol } from "./exchange.js";
export { type ComeUpOptions, FakeTws, type FakeTwsOptions, type FakeTwsStats } from "./fake-tws.js";
export { SERVER_VERSION } from "./server-messages.js";
