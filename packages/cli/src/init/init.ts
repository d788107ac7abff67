/** `tradecron init`: writes the starter files into a folder, never over existing ones unless forced. */

import { randomBytes } from "node:crypto";
import { access, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CliError, EXIT } from "../errors.js";
import {
  configTemplate,
  envTemplate,
  type InitStorage,
  jobsTemplate,
  type UnitOptions,
  unitTemplate,
} from "./templates.js";

/** Options of {@link initProject}. */
export interface InitOptions {
  dir: string;
  storage: InitStorage;
  force: boolean;
  unit: Omit<UnitOptions, "dir">;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Writes tradecron.config.ts, jobs.ts, tradecron.service and tradecron.env; returns their paths. */
export async function initProject(options: InitOptions): Promise<string[]> {
  const dir = resolve(options.dir);
  const files: [string, string][] = [
    ["tradecron.config.ts", configTemplate(options.storage)],
    ["jobs.ts", jobsTemplate()],
    ["tradecron.service", unitTemplate({ ...options.unit, dir })],
    // A token of this project's own: 32 random bytes, never a fixed one, only in the private file.
    ["tradecron.env", envTemplate(options.storage, randomBytes(32).toString("base64url"))],
  ];
  if (!options.force) {
    const taken: string[] = [];
    for (const [name] of files) if (await exists(join(dir, name))) taken.push(name);
    if (taken.length > 0) {
      throw new CliError(
        "CONFLICT",
        `${dir} has ${taken.join(", ")} already: nothing written (--force overwrites)`,
        EXIT.USAGE,
        {
          field: "dir",
        },
      );
    }
  }
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeFile(path, text, { mode: name === "tradecron.env" ? 0o600 : 0o644 });
    written.push(path);
  }
  return written;
}
