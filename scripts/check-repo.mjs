#!/usr/bin/env node
// The repository as a newcomer finds it (part of `npm test`):
// - every Markdown link, every `path/like/this.ts` in backticks and every bare `NAME.md` in a
//   tracked Markdown file points at a file or folder that exists in the repository;
// - no run's data folder (tradecron-data/, .tradecron-data/) is committed, and git ignores them;
// - every tracked shell script (.ci/run, *.sh) parses (`bash -n`): CI cannot start otherwise.
//
// Usage: node scripts/check-repo.mjs   (prints one line per failure, then "N passed, N failed")

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function git(args) {
  const res = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  if (res.error) throw res.error;
  return res;
}

const tracked = git(["ls-files", "-z"]).stdout.split("\0").filter(Boolean);
const failures = [];
let passed = 0;
const check = (ok, message) => {
  if (ok) passed++;
  else failures.push(message);
};

/** True if `target` (relative to the citing file's folder, or to the repository root) exists. */
function resolves(fromFile, target) {
  const clean = decodeURI(target.split("#")[0].split("?")[0]);
  if (clean === "") return true;
  const candidates = [resolve(root, dirname(fromFile), clean), resolve(root, clean)];
  return candidates.some((p) => p.startsWith(root) && existsSync(p));
}

const LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const CODE_PATH =
  /`((?:\.{1,2}\/)?[\w@.-]+(?:\/[\w@.-]+)+\.(?:ts|mts|cts|mjs|cjs|js|json|md|yaml|yml|py|sql))`/g;
const BARE_MD = /(?<![\w/.-])([\w-]+\.md)\b/g;

for (const file of tracked.filter((f) => f.endsWith(".md"))) {
  const text = readFileSync(join(root, file), "utf8");
  const cited = new Set();
  for (const [, target] of text.matchAll(LINK)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue; // URLs and anchors
    cited.add(target);
  }
  // docs/api is generated from TSDoc, whose backticked paths may name files of a run's data folder.
  if (!file.startsWith("docs/api/")) for (const [, path] of text.matchAll(CODE_PATH)) cited.add(path);
  for (const [, name] of text.matchAll(BARE_MD)) cited.add(name);
  for (const target of cited) {
    check(resolves(file, target), `${file}: cites '${target}', which is not in the repository`);
  }
}

// A run's data must never be committed: it is somebody's schedules, orders and audit log.
const dataFolder = /(^|\/)\.?tradecron-data\//;
const committedData = tracked.filter((f) => dataFolder.test(f));
check(
  committedData.length === 0,
  `run data is committed (git rm -r --cached it): ${committedData.slice(0, 5).join(", ")}`,
);
for (const probe of [
  "tradecron-data/tradecron-store.json",
  "examples/standalone/tradecron-data/schedules/x.json",
  ".tradecron-data/demo/tradecron-store.json",
]) {
  check(git(["check-ignore", "-q", "--no-index", probe]).status === 0, `.gitignore does not ignore ${probe}`);
}

// A shell script that does not parse fails CI in its first second, before any test runs.
for (const file of tracked.filter((f) => f === ".ci/run" || f.endsWith(".sh"))) {
  const res = spawnSync("bash", ["-n", file], { cwd: root, encoding: "utf8" });
  check(res.status === 0, `${file} does not parse: ${(res.stderr || "").trim()}`);
}

for (const f of failures) process.stderr.write(`check-repo: ${f}\n`);
process.stdout.write(`check-repo: ${passed} passed, ${failures.length} failed\n`);
process.exit(failures.length ? 1 : 0);
