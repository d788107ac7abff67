/**
 * Why the config is loaded with jiti: the same TypeScript configs through Node's own type
 * stripping and through jiti. Node (24, strip-only) loads only the strictest spelling; jiti loads
 * every one a user is likely to write. If Node's column changes, revisit the choice in load.ts.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { importConfig } from "../src/config/load.js";
import { cleanWork, workDir } from "./helpers.js";

const root = workDir();
afterAll(() => cleanWork(root));

const JOBS = `export const jobs: Record<string, () => string> = { snap: () => "ok" };\n`;
const ENUM_JOBS = `export enum Kind { A = "a" }\nexport const jobs = { snap: () => Kind.A };\n`;

function project(name: string, type: "module" | "commonjs", importLine: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type }));
  writeFileSync(join(dir, "jobs.ts"), JOBS);
  writeFileSync(join(dir, "enum-jobs.ts"), ENUM_JOBS);
  writeFileSync(join(dir, "tradecron.config.ts"), `${importLine}\nexport default { jobs };\n`);
  return join(dir, "tradecron.config.ts");
}

async function jitiLoads(file: string): Promise<boolean> {
  const config = (await importConfig(file, {})) as { jobs: object };
  return Object.keys(config.jobs).length === 1;
}

const CASES = [
  ["type module, import './jobs.ts'", true, "module", `import { jobs } from "./jobs.ts";`],
  ["type module, import './jobs'", false, "module", `import { jobs } from "./jobs";`],
  ["type module, import './jobs.js'", false, "module", `import { jobs } from "./jobs.js";`],
  ["type module, an enum", false, "module", `import { jobs } from "./enum-jobs.ts";`],
  [
    "type commonjs (npm init's default), import './jobs.ts'",
    false,
    "commonjs",
    `import { jobs } from "./jobs.ts";`,
  ],
  ["type commonjs, import './jobs'", false, "commonjs", `import { jobs } from "./jobs";`],
] as const;

describe("config loading: jiti against Node's type stripping", () => {
  it.each(CASES)("%s: jiti loads it; Node's stripping loads it: %s", async (_name, nodeToo, type, line) => {
    const file = project(Math.random().toString(36).slice(2), type, line);
    expect(await jitiLoads(file)).toBe(true);
    // Node's own loader runs in a child: vitest's module runner is not Node's loader.
    const { execFileSync } = await import("node:child_process");
    const script = `import(${JSON.stringify(pathToFileURL(file).href)}).then(m => process.exit(Object.keys(m.default.jobs).length === 1 ? 0 : 1), () => process.exit(1))`;
    let ok = true;
    try {
      execFileSync(process.execPath, ["--no-warnings", "-e", script], { stdio: "ignore" });
    } catch {
      ok = false;
    }
    expect(ok).toBe(nodeToo);
  });
});
