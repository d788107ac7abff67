import { join } from "node:path";
import { storageConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { SqliteStorage } from "../src/index.js";
import { useTempDir } from "./helpers/sqlite.js";

const tempDir = useTempDir();

storageConformance({ describe, it }, async () => {
  const path = join(tempDir(), "store.db");
  const open = () => new SqliteStorage({ path });
  return { storage: open(), reopen: async () => open() };
});
