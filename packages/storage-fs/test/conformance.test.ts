import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Storage } from "@tradecron/core";
import { storageConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { FileStorage, type FileStorageOptions } from "../src/index.js";
import { tempDir } from "./helpers.js";

/**
 * How a store folder gets damaged: a person edits a file while the store is closed. The hooks
 * close the store, edit, and reopen it.
 */
function tamper(options: FileStorageOptions) {
  const reopened = async (storage: Storage, edit: () => Promise<void>) => {
    await storage.close();
    await edit();
    const again = new FileStorage(options);
    await again.open();
    return again;
  };
  return {
    corruptControl: (storage: Storage) =>
      reopened(storage, () =>
        writeFile(join(options.dir, "control.json"), '{ "pausedAll": "maybe", "revision": 4 }\n'),
      ),
    corruptSchedule: (storage: Storage, id: string) =>
      reopened(storage, async () => {
        const path = join(options.dir, "schedules", `${id}.json`);
        const record = JSON.parse(await readFile(path, "utf8"));
        await writeFile(path, JSON.stringify({ ...record, retry: "lots" }, null, 2));
      }),
    // The state is in a log line (the commit's) or, once sealed, in schedule-state.json: damage both.
    corruptState: (storage: Storage, id: string) =>
      reopened(storage, async () => {
        const dir = join(options.dir, "executions");
        for (const name of await readdir(dir)) {
          const path = join(dir, name);
          if (name === "schedule-state.json") {
            const file = JSON.parse(await readFile(path, "utf8"));
            if (file.states[id]) file.states[id].updatedAt = "yesterday";
            await writeFile(path, JSON.stringify(file));
          } else if (/^log-\d+\.jsonl$/.test(name)) {
            const lines = (await readFile(path, "utf8")).split("\n").map((line) => {
              if (!line.includes('"state"')) return line;
              const v = JSON.parse(line);
              if (v.state?.scheduleId === id) v.state.updatedAt = "yesterday";
              return JSON.stringify(v);
            });
            await writeFile(path, lines.join("\n"));
          }
        }
      }),
  };
}

// Each test gets a fresh folder. `reopen` is a second handle on the same folder in this process:
// it shares the folder's engine, which is how the race tests can hold two handles at once.
storageConformance({ describe, it }, async () => {
  const { dir, remove } = await tempDir("tc-conf-");
  return {
    storage: new FileStorage({ dir }),
    reopen: async () => new FileStorage({ dir }),
    cleanup: remove,
    ...tamper({ dir }),
  };
});

// The same suite with tiny segments, so that sealing and merging happen during the tests.
describe("with a seal every 8 log lines", () => {
  storageConformance({ describe, it }, async () => {
    const { dir, remove } = await tempDir("tc-conf-seal-");
    return {
      storage: new FileStorage({ dir, segmentLines: 8, mergeFanIn: 2 }),
      reopen: async () => new FileStorage({ dir, segmentLines: 8, mergeFanIn: 2 }),
      cleanup: remove,
      ...tamper({ dir, segmentLines: 8, mergeFanIn: 2 }),
    };
  });
});

// And with commits on the main thread (FileStorageOptions.inlineCommits).
describe("with inline commits and a seal every 8 log lines", () => {
  storageConformance({ describe, it }, async () => {
    const { dir, remove } = await tempDir("tc-conf-inline-");
    const options = { dir, segmentLines: 8, mergeFanIn: 2, inlineCommits: true };
    return {
      storage: new FileStorage(options),
      reopen: async () => new FileStorage(options),
      cleanup: remove,
      ...tamper(options),
    };
  });
});
