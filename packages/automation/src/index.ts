/**
 * `@tradecron/automation`: trading automation recipes on the tradecron scheduler. Each recipe is
 * one call that registers its jobs, declares its schedules and keeps its state: `autoInvest`,
 * `rebalance`, `priceTrigger`, `strategyLoop`; `simulate` runs any of them (and plain schedules)
 * over a past window on price bars. The planners behind them are pure functions, exported too.
 *
 * @packageDocumentation
 */

export {
  type Cadence,
  type CadenceExecution,
  type CadenceInput,
  type DueOptions,
  type DueResult,
  describeCadence,
  dueExecution,
  executionsBetween,
  nextExecution,
  parseCadence,
  type RollConvention,
  type SkippedPeriod,
  type WeekdayInput,
} from "./calendar/cadence.js";
export type { SessionTimeInput } from "./calendar/session-trigger.js";
export { PlanNotFoundError, RecipeConfigError } from "./errors.js";
export {
  type AutoInvestLeg,
  type AutoInvestPlan,
  type AutoInvestRule,
  planAutoInvest,
  splitCents,
} from "./plan/auto-invest-plan.js";
export {
  evaluateTrigger,
  initialTriggerState,
  type PriceCondition,
  type PriceRule,
  type PriceTriggerState,
  type TriggerDecision,
} from "./plan/price-condition.js";
export {
  type DriftRow,
  type Holding,
  type PortfolioSnapshot,
  planRebalance,
  type RebalancePlan,
  type RebalanceReason,
  type RebalanceRule,
} from "./plan/rebalance-plan.js";
export {
  type GateInput,
  type GateReason,
  type GateResult,
  gateSignals,
  type Signal,
  type TaggedSignal,
} from "./plan/strategy-gate.js";
export {
  brokerPriceFeed,
  type PriceFeed,
  type PriceField,
  priceOf,
  type Quote,
  readQuote,
} from "./prices/price-feed.js";
export * from "./recipes/auto-invest.js";
export type { CommonInput, TimedExecution } from "./recipes/common.js";
export * from "./recipes/price-trigger.js";
export * from "./recipes/rebalance.js";
export * from "./recipes/strategy-loop.js";
export type {
  OrderOutcome,
  PlannedOrder,
  RecipeKind,
  RunOutcome,
  RunSummary,
  SkippedOrder,
} from "./runtime/summary.js";
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
