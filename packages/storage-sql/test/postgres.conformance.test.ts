import { storageConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

storageConformance({ describe, it }, async () => {
  const schema = uniqueSchema();
  const open = () => new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
  return {
    storage: open(),
    reopen: async () => open(),
    cleanup: () => dropSchema(schema),
  };
});
