#!/usr/bin/env node
/** The `tradecron` binary. */

import { runCli } from "./cli.js";
import { EXIT } from "./errors.js";

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tradecron: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(EXIT.INTERNAL);
  },
);
