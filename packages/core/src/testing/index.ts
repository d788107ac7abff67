/**
 * `@tradecron/core/testing`: the conformance suites every adapter runs, a deterministic clock and
 * a driver for it, a seeded random source, event helpers and record fixtures.
 *
 * @packageDocumentation
 */

export {
  type BrokerFault,
  type BrokerHandle,
  type BrokerSuiteOptions,
  brokerConformance,
} from "./broker-suite.js";
export { type DriveClockOptions, driveClock } from "./drive-clock.js";
export { EventRecorder } from "./events.js";
export { makeApproval, makeAudit, makeExecution, makeOrder, makeSchedule } from "./fixtures.js";
export {
  makeNotification,
  type NotifierHandle,
  type NotifierSuiteOptions,
  notifierConformance,
} from "./notifier-suite.js";
export { seededRandom } from "./seeded-random.js";
export {
  type StorageSuiteOptions,
  type StoreHandle,
  type SuiteTestApi,
  storageConformance,
} from "./storage-suite.js";
export { TestClock } from "./test-clock.js";
