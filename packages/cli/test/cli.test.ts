/** The command line in-process: parsing, usage errors, help, and how errors become exit codes. */

import { NotFoundError, StateError, TradecronError, ValidationError } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { CliError, EXIT, exitCodeOf } from "../src/errors.js";
import { cleanWork, workDir } from "./helpers.js";

async function run(args: string[]) {
  const dir = workDir();
  let out = "";
  let err = "";
  try {
    const code = await runCli(args, {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      env: {},
      cwd: dir,
    });
    return { code, out, err };
  } finally {
    cleanWork(dir);
  }
}

describe("tradecron command line", () => {
  it("answers usage errors with exit 2 and help with 0", async () => {
    expect((await run(["frobnicate"])).code).toBe(2);
    expect((await run(["frobnicate"])).err).toMatch(/unknown command 'frobnicate'/);
    expect((await run(["preview"])).code).toBe(2);
    expect((await run(["history", "--limit", "0"])).code).toBe(2);
    expect((await run(["history", "--status", "borked"])).err).toMatch(/unknown status 'borked'/);
    expect((await run(["init", "--storage", "redis"])).code).toBe(2);
    expect((await run(["statsu"])).err).toMatch(/Did you mean status\?/);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("run-job <schedule-or-job>");
    expect((await run(["approvals", "approve", "--help"])).out).toContain("re-checked by the risk guard");
  });

  it("without a config file, says how to get one (exit 2)", async () => {
    const r = await run(["schedules"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no config file in .*tradecron init/);
    const json = await run(["schedules", "--json"]);
    expect(JSON.parse(json.err)).toMatchObject({ exitCode: 2, error: { code: "VALIDATION" } });
  });

  it("maps every error to its documented exit code", () => {
    expect(exitCodeOf(new CliError("STORAGE", "x", EXIT.UNREACHABLE))).toBe(3);
    expect(exitCodeOf(new ValidationError([{ field: "a", message: "b", code: "VALIDATION" }]))).toBe(2);
    expect(exitCodeOf(new NotFoundError("SCHEDULE_NOT_FOUND", "x"))).toBe(4);
    expect(exitCodeOf(new StateError("PAUSED", "x"))).toBe(5);
    expect(exitCodeOf(new TradecronError("STORAGE_LOCKED", "x"))).toBe(3);
    expect(exitCodeOf(new TradecronError("BROKER_REJECTED", "x"))).toBe(1);
    expect(exitCodeOf(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe(3);
    expect(exitCodeOf(new TypeError("bug"))).toBe(70);
  });
});
