#!/usr/bin/env node
/**
 * tradecron-standalone: run the scheduler as a process, or run one job now.
 *
 *   tradecron-standalone start   [--health-port 8080] [--status-file logs/scheduler_status.json]
 *   tradecron-standalone run-job <schedule-id>
 *   tradecron-standalone preview <schedule-id> [--count 5]
 *   tradecron-standalone status  [--status-file ...]
 */

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { consoleLogger, TradecronError } from "@tradecron/core";
import { printEvents } from "./event-log.js";
import { startHost } from "./host.js";

const USAGE = `usage: tradecron-standalone <start|run-job|preview|status> [options]
  start                 run the scheduler until SIGTERM/SIGINT
  run-job <schedule>    run one schedule now (recorded as a manual fire by 'cli') and exit
  preview <schedule>    print the next fires of a schedule
  status                print the status file
options:
  --health-port <n>     health server port (default 8080, 0 = any free port, -1 = off)
  --status-file <path>  status file path (default ./scheduler_status.json; '' = off)
  --data-dir <path>     FileStorage folder (default ./tradecron-data)
  --count <n>           number of fires for preview (default 5)
  --log-level <level>   trace|debug|info|warn|error (default info)`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "health-port": { type: "string", default: "8080" },
      "status-file": { type: "string", default: "scheduler_status.json" },
      "data-dir": { type: "string", default: "tradecron-data" },
      count: { type: "string", default: "5" },
      "log-level": { type: "string", default: "info" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "start", target] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const logger = consoleLogger({ level: values["log-level"] as "info" });
  const statusFile = values["status-file"] || null;
  if (command === "status") {
    if (!statusFile) throw new Error("--status-file is empty");
    process.stdout.write(await readFile(statusFile, "utf8"));
    return 0;
  }
  if (command === "start") {
    const port = Number(values["health-port"]);
    const host = await startHost({
      logger,
      statusFile,
      healthPort: port < 0 ? null : port,
      dataDir: values["data-dir"],
    });
    printEvents(host.scheduler);
    const address = host.server?.address();
    logger.info(
      {
        health: address && typeof address === "object" ? `http://127.0.0.1:${address.port}/health` : "off",
        statusFile,
      },
      "tradecron standalone host started",
    );
    return await new Promise<number>(() => {}); // runs until a signal stops the host
  }
  if (command === "run-job" || command === "preview") {
    if (!target) {
      console.error(`${command} needs a schedule id\n\n${USAGE}`);
      return 2;
    }
    const host = await startHost({
      logger,
      statusFile: null,
      healthPort: null,
      handleSignals: false,
      dataDir: values["data-dir"],
    });
    try {
      if (command === "preview") {
        for (const fire of await host.scheduler.preview(target, { count: Number(values.count) })) {
          console.log(`${fire.iso}  ${fire.local}${fire.skip ? `  (skipped: ${fire.skip})` : ""}`);
        }
        return 0;
      }
      host.scheduler.pause(); // only the requested job runs in this process
      printEvents(host.scheduler);
      const result = await host.scheduler.trigger(target, { actor: "cli" });
      console.log(JSON.stringify(result, null, 2));
      return result.status === "succeeded" ? 0 : 1;
    } finally {
      await host.stop();
    }
  }
  console.error(`unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof TradecronError)
      console.error(`error [${error.code}]${error.field ? ` ${error.field}` : ""}: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
