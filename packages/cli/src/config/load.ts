/**
 * Finding and importing the config file. TypeScript and JavaScript modules are loaded with jiti,
 * JSON is parsed here. Why jiti and not Node's own type stripping: with Node 24 stripping, a
 * `tradecron.config.ts` fails in a package without `"type": "module"` (npm init's default is now
 * `commonjs`), fails on `import "./jobs"` and `import "./jobs.js"` (the two usual TypeScript
 * spellings), and fails on enums; jiti loads all of them, and on Node 22 too (see
 * test/config-loader.test.ts, which runs both). Every failure becomes a ConfigError naming the file.
 */

import { readFile, stat } from "node:fs/promises";
import { extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createJiti } from "jiti";
import { ConfigError } from "../errors.js";
import { type ResolvedConfig, resolveConfig } from "./validate.js";

/** The names `tradecron` looks for, in this order, when no `--config` is given. */
export const CONFIG_NAMES = [
  "tradecron.config.ts",
  "tradecron.config.mts",
  "tradecron.config.cts",
  "tradecron.config.js",
  "tradecron.config.mjs",
  "tradecron.config.cjs",
  "tradecron.config.json",
] as const;

const CODE_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"]);

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const loadFailure = (file: string, message: string, cause?: unknown) =>
  new ConfigError(file, [{ field: "", message, code: "VALIDATION" }], { cause });

/** The config file to use: `explicit` (relative to `cwd`), or the first of {@link CONFIG_NAMES} in `cwd`. */
export async function findConfig(explicit: string | undefined, cwd: string): Promise<string> {
  if (explicit) {
    const file = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    if (!(await isFile(file))) throw loadFailure(file, "config file not found");
    return file;
  }
  for (const name of CONFIG_NAMES) {
    const file = resolve(cwd, name);
    if (await isFile(file)) return file;
  }
  throw loadFailure(
    resolve(cwd, CONFIG_NAMES[0]),
    `no config file in ${cwd} (looked for ${CONFIG_NAMES.join(", ")}); write one with 'tradecron init' or pass --config`,
  );
}

function describeLoadError(error: unknown): string {
  const e = error as { code?: string; message?: string } | null;
  const first = String(e?.message ?? error).split("\n")[0] as string;
  if (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") {
    return `a module it imports cannot be found: ${first}`;
  }
  if (error instanceof SyntaxError) return `syntax error: ${first}`;
  return `loading it threw: ${first}`;
}

/**
 * Imports the config module and returns what it exports by default (a function export is called
 * with `{ env }` and awaited). Throws a ConfigError naming the file when it cannot be read or run.
 */
export async function importConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  let exported: unknown;
  if (ext === ".json") {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw loadFailure(file, `cannot read it: ${(error as Error).message}`, error);
    }
    try {
      exported = JSON.parse(text);
    } catch (error) {
      throw loadFailure(file, `not valid JSON: ${(error as Error).message}`, error);
    }
  } else if (CODE_EXTENSIONS.has(ext)) {
    // No cache on disk: a config is small, and a service under ProtectSystem=strict cannot write one.
    const jiti = createJiti(pathToFileURL(file).href, {
      fsCache: false,
      moduleCache: false,
      interopDefault: true,
    });
    try {
      exported = await jiti.import(file, { default: true });
    } catch (error) {
      throw loadFailure(file, describeLoadError(error), error);
    }
  } else {
    throw loadFailure(
      file,
      `unsupported config type '${ext}' (use .ts, .mts, .cts, .js, .mjs, .cjs or .json)`,
    );
  }
  if (typeof exported === "function") {
    try {
      exported = await (exported as (ctx: { env: typeof env }) => unknown)({ env });
    } catch (error) {
      throw loadFailure(
        file,
        `its default export threw: ${String((error as Error)?.message ?? error)}`,
        error,
      );
    }
  }
  return exported;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** `--config`; default: search {@link CONFIG_NAMES} in `cwd`. */
  path?: string;
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/** Finds, imports, validates and resolves the config. Throws a ConfigError on any problem. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = await findConfig(options.path, cwd);
  const raw = await importConfig(file, env);
  return resolveConfig(raw, file, env, { cwd });
}
