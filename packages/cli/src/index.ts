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
  AlpacaBrokerConfig,
  BrokerConfig,
  BrokerConfigs,
  BrokerFactory,
  BuildContext,
  EnvSecret,
  FileStorageConfig,
  HttpConfig,
  HttpTokenConfig,
  IbkrBrokerConfig,
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
export { type ResolvedConfig, type ResolvedHttp, resolveConfig } from "./config/validate.js";
export { CliError, ConfigError, EXIT, type ExitCode, exitCodeOf } from "./errors.js";
export { ApiClient, errorFromProblem } from "./ops/api-client.js";
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
export { RemoteOperations, type RemoteOptions } from "./ops/remote.js";
export { Service, type ServiceOptions, type StopOutcome } from "./service/service.js";
export type { JobSnapshot, StatusSnapshot } from "./service/snapshot.js";
