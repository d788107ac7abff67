/**
 * `@tradecron/automation`: trading automation recipes on the tradecron scheduler.
 *
 * @packageDocumentation
 */

export { PlanNotFoundError, RecipeConfigError } from "./errors.js";
export type { GateReason, Signal, TaggedSignal } from "./plan/strategy-gate.js";
export * from "./recipes/auto-invest.js";
export * from "./recipes/price-trigger.js";
export * from "./recipes/rebalance.js";
export * from "./recipes/strategy-loop.js";
export type { BarInput, Tick } from "./simulate/bars.js";
export type {
  SimFire,
  SimOrder,
  SimPlanned,
  SimRoll,
  SimSkip,
  SimulationReport,
  SkipSource,
} from "./simulate/report.js";
export {
  type SimApprovalPolicy,
  type SimulateOptions,
  type SimulationEnv,
  simulate,
} from "./simulate/simulate.js";
