/**
 * `@tradecron/cli`: the `tradecron` command. Import `defineConfig` and the config types in a
 * `tradecron.config.ts`; the rest is for hosts that embed the CLI's parts.
 *
 * @packageDocumentation
 */

export { runCli } from "./cli.js";
export type { CliIO } from "./commands/context.js";
export { ENV_VARS } from "./config/env.js";
export { CONFIG_NAMES, type LoadConfigOptions, loadConfig } from "./config/load.js";
export type {
  BrokerConfig,
  BrokerConfigs,
  BrokerFactory,
  BuildContext,
  FileStorageConfig,
  HealthConfig,
  JobConfig,
  MemoryStorageConfig,
  NotifierConfig,
  PaperBrokerConfig,
  PostgresStorageConfig,
  ScheduleConfig,
  SchedulerConfig,
  SqliteStorageConfig,
  StatusFileConfig,
  StorageConfig,
  TradecronConfig,
} from "./config/schema.js";
export { defineConfig } from "./config/schema.js";
export { type ResolvedConfig, resolveConfig } from "./config/validate.js";
export { CliError, ConfigError, EXIT, type ExitCode, exitCodeOf } from "./errors.js";
export { DirectOperations } from "./ops/direct.js";
export type {
  ApprovalQuery,
  DeclaredState,
  HistoryQuery,
  Operations,
  PauseAllResult,
  RunJobResult,
  ScheduleStatusView,
  ScheduleView,
  StatusView,
} from "./ops/operations.js";
export { Service, type ServiceOptions } from "./service/service.js";
export type { JobSnapshot, StatusSnapshot } from "./service/snapshot.js";
