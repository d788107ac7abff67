/**
 * The `tradecron` command line: commander parses, each command runs over a CommandContext, and
 * every outcome becomes a documented exit code. Commander rather than `util.parseArgs`: ten
 * commands with their own options, a nested `approvals` group, generated help, and errors for
 * unknown commands and options with suggestions are what commander does and parseArgs does not.
 */

import { realpathSync } from "node:fs";
import { userInfo } from "node:os";
import { TradecronError } from "@tradecron/core";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import {
  approvalsListCommand,
  decideCommand,
  pauseAllCommand,
  resumeAllCommand,
  runJobCommand,
} from "./commands/act.js";
import { type CliIO, CommandContext, type GlobalFlags } from "./commands/context.js";
import {
  historyCommand,
  previewCommand,
  schedulesCommand,
  statusCommand,
  validateCommand,
} from "./commands/inspect.js";
import { startCommand } from "./commands/start.js";
import { ConfigError, EXIT, type ExitCode, exitCodeOf } from "./errors.js";
import { initProject } from "./init/init.js";

const VERSION = "0.1.0";

const positiveInt = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
  return n;
};

function build(io: CliIO, run: (task: () => Promise<ExitCode>) => void): Command {
  const program = new Command("tradecron")
    .description("Run tradecron schedules as a service, and operate them from a shell.")
    .version(VERSION)
    .option(
      "-c, --config <file>",
      "config file (default: tradecron.config.ts, .js, .json in the current folder; env TRADECRON_CONFIG)",
    )
    .option("--json", "print JSON for scripts instead of tables")
    .option("--actor <name>", "who acts, for the audit log (env TRADECRON_ACTOR; default cli:<user>)")
    .option(
      "--url <url>",
      "a running instance's API (env TRADECRON_URL): commands go through it instead of the storage",
    )
    .option("--token <token>", "bearer token for that API (env TRADECRON_TOKEN); its name is the audit actor")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const ctxOf = (cmd: Command) => new CommandContext(io, cmd.optsWithGlobals() as GlobalFlags);
  program
    .command("start")
    .description(
      "run the scheduler until SIGTERM/SIGINT: declares the config's schedules, serves /health, /status, /metrics, the API and the dashboard",
    )
    .action((_opts, cmd: Command) => run(() => startCommand(ctxOf(cmd))));
  program
    .command("run-job")
    .argument("<schedule-or-job>", "a schedule id, or a job with exactly one schedule")
    .description(
      "run one schedule now (a manual fire recorded with the actor) and wait for it; exit 0 ok, 1 failed, 5 skipped",
    )
    .action((target: string, _opts, cmd: Command) => run(() => runJobCommand(ctxOf(cmd), target)));
  program
    .command("status")
    .description("pause-all, pending approvals, each schedule's next fire and last run, fires running now")
    .action((_opts, cmd: Command) => run(() => statusCommand(ctxOf(cmd))));
  program
    .command("preview")
    .argument("<schedule>", "schedule id (stored, or declared in the config)")
    .option("-n, --count <n>", "number of fires", positiveInt(1000), 10)
    .description("the next fires of a schedule, with the reason each would be skipped")
    .action((id: string, opts: { count: number }, cmd: Command) =>
      run(() => previewCommand(ctxOf(cmd), id, opts.count)),
    );
  program
    .command("schedules")
    .description(
      "stored schedules with trigger, state, next fire, last run, and how each compares to the config",
    )
    .action((_opts, cmd: Command) => run(() => schedulesCommand(ctxOf(cmd))));
  program
    .command("history")
    .description("executions, newest first")
    .option("-s, --schedule <id>", "only this schedule")
    .option("--status <list>", "only these statuses (comma-separated: failed,timed_out)")
    .option("--since <instant>", "only fires at or after this ISO 8601 instant")
    .option("-n, --limit <n>", "page size", positiveInt(1000), 20)
    .option("--cursor <cursor>", "the next page (printed after a full page)")
    .action((opts, cmd: Command) => run(() => historyCommand(ctxOf(cmd), opts)));
  program
    .command("pause-all")
    .description("emergency stop: no schedule fires on any instance until resume-all (persisted, audited)")
    .option("-r, --reason <text>", "why, for the audit log and the notification")
    .option("--cancel-orders", "also cancel every open order at the broker")
    .action((opts, cmd: Command) => run(() => pauseAllCommand(ctxOf(cmd), opts)));
  program
    .command("resume-all")
    .description("lift pause-all; missed fires follow each schedule's misfire policy")
    .action((_opts, cmd: Command) => run(() => resumeAllCommand(ctxOf(cmd))));

  const approvals = program.command("approvals").description("the approval queue: list, approve, reject");
  const listOptions = (c: Command) =>
    c
      .option("--status <list>", "statuses (default pending)")
      .option("--risk <list>", "risk levels: low,medium,high")
      .option("-s, --schedule <id>", "only this schedule")
      .option("-n, --limit <n>", "page size", positiveInt(1000), 50);
  listOptions(
    approvals.command("list", { isDefault: true }).description("approvals, newest first (default: pending)"),
  ).action((opts, cmd: Command) => run(() => approvalsListCommand(ctxOf(cmd), opts)));
  for (const decision of ["approve", "reject"] as const) {
    approvals
      .command(decision)
      .argument("<id...>", "approval ids")
      .option("-r, --reason <text>", "why, for the audit log")
      .description(
        decision === "approve" ? "approve: re-checked by the risk guard, then submitted" : "reject",
      )
      .action((ids: string[], opts: { reason?: string }, cmd: Command) =>
        run(() => decideCommand(ctxOf(cmd), decision, ids, opts)),
      );
  }

  program
    .command("init")
    .argument("[dir]", "folder to write into", ".")
    .description(
      "write a starter tradecron.config.ts, jobs.ts, tradecron.service (systemd) and tradecron.env",
    )
    .addOption(
      new Option("--storage <type>", "storage of the starter config")
        .choices(["file", "sqlite", "postgres"])
        .default("file"),
    )
    .option("--force", "overwrite existing files")
    .action((dir: string, opts: { storage: "file" | "sqlite" | "postgres"; force?: boolean }, cmd: Command) =>
      run(async () => {
        const ctx = ctxOf(cmd);
        let user = "tradecron";
        try {
          user = userInfo().username;
        } catch {}
        const bin = process.argv[1] ? realpathSync(process.argv[1]) : "tradecron";
        const written = await initProject({
          dir: dir.startsWith("/") ? dir : `${io.cwd}/${dir}`,
          storage: opts.storage,
          force: opts.force === true,
          unit: { user, node: process.execPath, bin },
        });
        if (ctx.json) ctx.printJson({ written });
        else
          ctx.print(
            `wrote\n${written.map((w) => `  ${w}`).join("\n")}\nnext: tradecron validate, then tradecron start (or install tradecron.service); the dashboard is http://127.0.0.1:8080/ui/, its token TRADECRON_ADMIN_TOKEN in tradecron.env`,
          );
        return EXIT.OK;
      }),
    );
  program
    .command("validate")
    .description("load and check the config (exit 0 ok, 2 invalid) without touching storage")
    .action((_opts, cmd: Command) => run(() => validateCommand(ctxOf(cmd))));
  return program;
}

/** Prints an error for people (or as JSON with --json) and returns its exit code. */
function report(io: CliIO, error: unknown, json: boolean): ExitCode {
  const code = exitCodeOf(error);
  if (json) {
    const body =
      error instanceof ConfigError
        ? { error: { ...error.toJSON(), file: error.file, issues: error.issues } }
        : error instanceof TradecronError
          ? { error: error.toJSON() }
          : {
              error: { name: "Error", code: "INTERNAL", message: String((error as Error)?.message ?? error) },
            };
    io.err(`${JSON.stringify({ exitCode: code, ...body })}\n`);
  } else if (error instanceof ConfigError) {
    io.err(`tradecron: ${error.describe()}\n`);
  } else if (error instanceof TradecronError) {
    io.err(`tradecron: ${error.message}${error.code ? ` [${error.code}]` : ""}\n`);
  } else {
    io.err(`tradecron: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  return code;
}

/** Runs the command line `argv` (without node and the script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<ExitCode> {
  let task: (() => Promise<ExitCode>) | null = null;
  const program = build(io, (t) => {
    task = t;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      ) {
        return EXIT.OK;
      }
      return EXIT.USAGE;
    }
    return report(io, error, argv.includes("--json"));
  }
  if (!task) {
    io.out(program.helpInformation());
    return EXIT.USAGE;
  }
  try {
    return await (task as () => Promise<ExitCode>)();
  } catch (error) {
    return report(io, error, argv.includes("--json"));
  }
}
