#!/usr/bin/env node
// The packages as a user installs them (part of `npm test`, and the last check of `pnpm release`):
//
//  1. packs every non-private package in packages/* the way the release does (`pnpm pack`, which
//     `changeset pack` runs too: it rewrites `workspace:` ranges to real versions), or takes the
//     release's own tarballs with --from-pack-dir <dir> (the output of `changeset pack`);
//  2. checks each tarball's manifest: no `workspace:` range left, every `files` entry shipped,
//     a README;
//  3. installs the tarballs with npm into a scratch project next to Express (the npm registry is
//     the only network it needs);
//  4. imports every exports-map entry of every package in ESM and in CJS, checks both expose the
//     same names, and runs a small Express app on the installed scheduler and FileStorage;
//  5. type-checks a consumer (`module`/`moduleResolution` NodeNext, `skipLibCheck: false`, strict)
//     as ESM (.mts) and as CJS (.cts): every entry, plus scripts/install-check/consumer.*.
//
// Packages are discovered, so one added to packages/* later is covered without editing this file.
//
// Usage: node scripts/check-install.mjs [--from-pack-dir <dir>] [--keep]
//   (needs the packages built: `pnpm build`; --keep leaves the scratch folder for a look)

import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const here = join(root, "scripts", "install-check");
const { values: args } = parseArgs({
  options: { "from-pack-dir": { type: "string" }, keep: { type: "boolean", default: false } },
});

/** What the consumer installs next to tradecron (exact versions, like the rest of the repo). */
const NEIGHBOURS = { express: "5.3.0" };
const NEIGHBOUR_TYPES = { "@types/express": "5.0.6", "@types/node": "24.19.2" };

const started = Date.now();
const log = (msg) =>
  process.stderr.write(`[check-install ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
let passed = 0;
const failures = [];
const check = (ok, message) => {
  if (ok) passed++;
  else {
    failures.push(message);
    log(`FAIL ${message}`);
  }
  return ok;
};

function run(cmd, argv, opts = {}) {
  const res = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (res.error) throw res.error;
  return res;
}

function mustRun(cmd, argv, opts = {}) {
  const res = run(cmd, argv, opts);
  if (res.status !== 0) {
    process.stderr.write(`${res.stdout}\n${res.stderr}\n`);
    finish(`'${cmd} ${argv.join(" ")}' exited with ${res.status}`);
  }
  return res;
}

function finish(fatal) {
  if (fatal) failures.push(fatal);
  if (!args.keep) rmSync(scratch, { recursive: true, force: true });
  else log(`scratch project kept in ${scratch}`);
  for (const f of failures) process.stderr.write(`check-install: ${f}\n`);
  process.stdout.write(`check-install: ${passed} passed, ${failures.length} failed\n`);
  process.exit(failures.length ? 1 : 0);
}

// ------------------------------------------------------------------------------------------------
// 1. the tarballs

/** Every publishable package: packages/* without `"private": true`. */
function discoverPackages() {
  const base = join(root, "packages");
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(base, d.name, "package.json")))
    .map((d) => {
      const dir = join(base, d.name);
      return { dir, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) };
    })
    .filter((p) => p.manifest.private !== true);
}

const scratch = mkdtempSync(join(tmpdir(), "tradecron-install-check-"));
const tarballDir = join(scratch, "tarballs");
mkdirSync(tarballDir);
const packages = discoverPackages();
check(packages.length > 0, "no publishable package found in packages/*");

/** name -> tarball path. */
const tarballs = new Map();
if (args["from-pack-dir"]) {
  const packDir = resolve(args["from-pack-dir"]);
  const plan = JSON.parse(readFileSync(join(packDir, "publish-plan.json"), "utf8"));
  for (const release of plan.plan.flat()) {
    if (release.kind === "publish") tarballs.set(release.name, resolve(packDir, release.tarball.path));
  }
  log(`using the ${tarballs.size} tarball(s) of ${packDir}`);
} else {
  for (const { dir, manifest } of packages) {
    const out = join(
      tarballDir,
      `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`,
    );
    // The command changesets' `pack` runs for a pnpm workspace.
    mustRun("pnpm", ["pack", "--out", out, "--json"], { cwd: dir });
    tarballs.set(manifest.name, out);
  }
  log(`packed ${tarballs.size} package(s): ${[...tarballs.keys()].join(", ")}`);
}

// ------------------------------------------------------------------------------------------------
// 2. the manifests inside the tarballs

const DEPENDENCY_FIELDS = ["dependencies", "peerDependencies", "optionalDependencies", "devDependencies"];
/** name -> { manifest, files } as published. */
const published = new Map();
for (const [name, tgz] of tarballs) {
  const listing = mustRun("tar", ["-tzf", tgz]).stdout.split("\n").filter(Boolean);
  const files = new Set(listing.map((f) => f.replace(/^package\//, "")));
  const manifest = JSON.parse(mustRun("tar", ["-xzOf", tgz, "package/package.json"]).stdout);
  published.set(name, { manifest, files });
  for (const field of DEPENDENCY_FIELDS) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      check(!String(range).startsWith("workspace:"), `${name}: ${field}.${dep} is '${range}' in the tarball`);
    }
  }
  for (const entry of manifest.files ?? []) {
    const shipped = files.has(entry) || [...files].some((f) => f.startsWith(`${entry.replace(/\/$/, "")}/`));
    check(shipped, `${name}: 'files' lists ${entry}, which the tarball does not contain`);
  }
  check(files.has("README.md"), `${name}: the tarball has no README.md`);
}
for (const { manifest } of packages) {
  check(tarballs.has(manifest.name), `${manifest.name}: no tarball for this publishable package`);
}

// ------------------------------------------------------------------------------------------------
// 3. the scratch project

const dependencies = { ...NEIGHBOURS };
for (const [name, tgz] of tarballs) {
  const local = join(tarballDir, tgz.split("/").pop());
  if (local !== tgz) cpSync(tgz, local);
  dependencies[name] = `file:${local}`;
}
writeFileSync(
  join(scratch, "package.json"),
  `${JSON.stringify({ name: "tradecron-consumer", version: "0.0.0", private: true, dependencies, devDependencies: NEIGHBOUR_TYPES }, null, 2)}\n`,
);
log("npm install (the tarballs, Express and their dependencies) ...");
const install = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
  cwd: scratch,
});
if (!check(install.status === 0, `npm install of the tarballs failed:\n${install.stderr.trim()}`)) finish();
log("installed");

// ------------------------------------------------------------------------------------------------
// 4. every entry, in ESM and in CJS

/** Every exports-map entry of a published manifest, as import specifiers. */
function entriesOf(name) {
  const { manifest } = published.get(name);
  const keys = manifest.exports ? Object.keys(manifest.exports) : ["."];
  return keys.map((k) => (k === "." ? name : `${name}/${k.replace(/^\.\//, "")}`));
}
const specifiers = [...tarballs.keys()].flatMap(entriesOf);
writeFileSync(join(scratch, "entries.json"), JSON.stringify(specifiers));

const ESM_PROBE = `
import { readFileSync } from "node:fs";
const out = {};
for (const spec of JSON.parse(readFileSync("entries.json", "utf8"))) {
  try {
    const m = spec.endsWith(".json") ? await import(spec, { with: { type: "json" } }) : await import(spec);
    out[spec] = { names: Object.keys(m).filter((k) => k !== "default" && k !== "module.exports").sort() };
  } catch (error) {
    out[spec] = { error: String(error?.stack ?? error) };
  }
}
console.log(JSON.stringify(out));
`;
const CJS_PROBE = `
const out = {};
for (const spec of require("./entries.json")) {
  try {
    const m = require(spec);
    out[spec] = { names: Object.keys(m).filter((k) => k !== "default" && k !== "__esModule").sort() };
  } catch (error) {
    out[spec] = { error: String(error?.stack ?? error) };
  }
}
console.log(JSON.stringify(out));
`;
writeFileSync(join(scratch, "probe.mjs"), ESM_PROBE);
writeFileSync(join(scratch, "probe.cjs"), CJS_PROBE);
const probe = (file) =>
  JSON.parse(mustRun(process.execPath, [file], { cwd: scratch }).stdout.trim().split("\n").pop());
const esm = probe("probe.mjs");
const cjs = probe("probe.cjs");
for (const spec of specifiers) {
  const e = esm[spec];
  const c = cjs[spec];
  check(!e.error, `import("${spec}") failed in ESM: ${e.error}`);
  check(!c.error, `require("${spec}") failed in CJS: ${c.error}`);
  if (e.error || c.error || spec.endsWith("package.json")) continue;
  check(e.names.length > 0, `${spec}: ESM entry exports nothing`);
  const onlyEsm = e.names.filter((n) => !c.names.includes(n));
  const onlyCjs = c.names.filter((n) => !e.names.includes(n));
  check(
    onlyEsm.length === 0 && onlyCjs.length === 0,
    `${spec}: ESM and CJS export different names (ESM only: ${onlyEsm.join(", ") || "-"}; CJS only: ${onlyCjs.join(", ") || "-"})`,
  );
}
log(`imported ${specifiers.length} entries in ESM and CJS`);

// The consumer app: a real Express server on the installed packages (ESM, then CJS).
cpSync(join(here, "consumer-app.cjs"), join(scratch, "consumer-app.cjs"));
for (const app of ["app.mjs", "app.cjs"]) {
  cpSync(join(here, app), join(scratch, app));
  const res = run(process.execPath, [app], { cwd: scratch, timeout: 60_000 });
  check(
    res.status === 0 && res.stdout.includes("consumer app ok"),
    `${app} failed (exit ${res.status}):\n${res.stdout}\n${res.stderr}`,
  );
}
log("ran the Express consumer app in ESM and CJS");

// ------------------------------------------------------------------------------------------------
// 5. the consumer type-checks

const generated = () =>
  `${specifiers
    .filter((s) => !s.endsWith(".json"))
    .map((s, i) => `import * as entry${i} from "${s}";\nexport const use${i}: object = entry${i};`)
    .join("\n")}\n`;
writeFileSync(join(scratch, "entries.mts"), generated());
writeFileSync(join(scratch, "entries.cts"), generated());
for (const file of ["consumer.mts", "consumer.cts", "tsconfig.json"])
  cpSync(join(here, file), join(scratch, file));
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
const typecheck = run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: scratch });
check(
  typecheck.status === 0,
  `a NodeNext consumer (skipLibCheck: false) does not compile:\n${typecheck.stdout.trim()}${typecheck.stderr.trim()}`,
);
log(
  `type-checked the consumer (TypeScript ${JSON.parse(readFileSync(join(dirname(tsc), "..", "package.json"), "utf8")).version})`,
);

finish();
