/**
 * `tradecron start`: runs the service until SIGTERM or SIGINT, then stops gracefully within the
 * deadline, handing runs still going at the deadline over to another instance (the process ends
 * right away, see Service.stop); a second signal forces the exit (143 or 130). A stray promise
 * rejection in a job is logged and the service goes on; an uncaught exception is logged, the
 * service stops and exits 1 so the supervisor restarts it.
 */

import { EXIT, type ExitCode } from "../errors.js";
import { createLogger } from "../logging/logger.js";
import { Service } from "../service/service.js";
import type { CommandContext } from "./context.js";

/** Runs the service; resolves with the exit code once it has stopped. */
export async function startCommand(ctx: CommandContext): Promise<ExitCode> {
  const config = await ctx.loadConfig();
  const logger = createLogger({ level: config.logLevel, fd: 1 });
  const service = await Service.start({ config, logger, env: ctx.io.env });
  return new Promise<ExitCode>((resolve) => {
    let signals = 0;
    const stop = (reason: string, code: ExitCode) => {
      // Resolving ends the process (bin.ts exits with the code): a hand-over needs exactly that.
      void service.stop(reason, { handOver: true }).then(
        () => resolve(code),
        (error: unknown) => {
          logger.error({ err: error }, "stop failed");
          resolve(EXIT.FAILED);
        },
      );
    };
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn(
          { event: "service:forced", signal },
          `${signal} again: exiting now; unfinished fires are taken over after their lease`,
        );
        resolve(signal === "SIGINT" ? EXIT.INTERRUPTED : EXIT.TERMINATED);
        return;
      }
      stop(signal, EXIT.OK);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    process.on("unhandledRejection", (reason) => {
      logger.error(
        { event: "process:unhandled-rejection", err: reason },
        "a promise rejected with no handler (a job's fire-and-forget?); carrying on",
      );
    });
    process.on("uncaughtException", (error) => {
      logger.fatal(
        { event: "process:uncaught-exception", err: error },
        `uncaught exception: ${error.message}; stopping`,
      );
      signals++;
      stop("uncaught exception", EXIT.FAILED);
    });
  });
}
