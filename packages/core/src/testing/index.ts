/**
 * `@tradecron/core/testing`: the conformance suites every adapter runs, a deterministic clock,
 * event helpers and record fixtures.
 *
 * @packageDocumentation
 */

export { EventRecorder } from "./events.js";
export { makeApproval, makeAudit, makeExecution, makeOrder, makeSchedule } from "./fixtures.js";
export {
  type StorageSuiteOptions,
  type StoreHandle,
  type SuiteTestApi,
  storageConformance,
} from "./storage-suite.js";
export { TestClock } from "./test-clock.js";
