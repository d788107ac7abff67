import { storageConformance } from "@tradecron/core/testing";
import { describe, it } from "vitest";
import { PostgresStorage } from "../src/index.js";
import { adminPool, dropSchema, PG_URL, uniqueSchema, usePostgres } from "./helpers/pg.js";

usePostgres();

storageConformance({ describe, it }, async () => {
  const schema = uniqueSchema();
  const open = () => new PostgresStorage({ connectionString: PG_URL, schema, poolSize: 4 });
  return {
    storage: open(),
    reopen: async () => open(),
    cleanup: () => dropSchema(schema),
    // What psql can do to the rows: delete the control row, store an impossible interval.
    corruptControl: async (storage) => {
      await adminPool().query(`DELETE FROM "${schema}".control`);
      return storage;
    },
    corruptSchedule: async (storage, id) => {
      await adminPool().query(
        `UPDATE "${schema}".schedules SET trigger = '{"type":"interval","every":-5,"anchor":0,"jitter":0}' WHERE id = $1`,
        [id],
      );
      return storage;
    },
    corruptState: async (storage, id) => {
      await adminPool().query(
        `UPDATE "${schema}".schedule_state SET value = '{"n":1}', updated_at = 9e15 WHERE schedule_id = $1`,
        [id],
      );
      return storage;
    },
  };
});
