/**
 * `@tradecron/broker-alpaca/testing`: a local fake Alpaca (REST + trade_updates websocket) to
 * test bots offline, with fault injection.
 *
 * @packageDocumentation
 */

export { FakeAlpaca, type FakeAlpacaOptions } from "./fake-alpaca.js";
export type { FakeRoute, HttpFault, HttpFaultKind } from "./fake-faults.js";
export { FaultQueue } from "./fake-faults.js";
export type { JournalEntry } from "./fake-http.js";
export type { FakeTradeEvent } from "./fake-ledger.js";
export type { StreamStats } from "./fake-stream.js";
