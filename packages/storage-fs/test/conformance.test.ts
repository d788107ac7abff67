import { storageConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { tempDir } from "./helpers.js";

// Each test gets a fresh folder. `reopen` is a second handle on the same folder in this process:
// it shares the folder's engine, which is how the race tests can hold two handles at once.
storageConformance({ describe, it }, async () => {
  const { dir, remove } = await tempDir("tc-conf-");
  return {
    storage: new FileStorage({ dir }),
    reopen: async () => new FileStorage({ dir }),
    cleanup: remove,
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
    };
  });
});
