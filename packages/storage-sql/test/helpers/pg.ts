/**
 * PostgreSQL for the tests: the server at TRADECRON_TEST_PG (default
 * postgres://postgres@127.0.0.1:5432/test). Every test works in a schema of its own
 * (`tc_test_<random>`), dropped afterwards, so runs never collide. An unreachable server fails
 * the tests with a message saying so: CI starts PostgreSQL, and a silent skip would hide that.
 */

import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

/** Connection string of the test server. */
export const PG_URL = process.env.TRADECRON_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

let admin: pg.Pool | null = null;

/** A small pool for creating and dropping schemas and for inspecting state. */
export function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: PG_URL, max: 3, application_name: "tradecron-test-admin" });
  return admin;
}

/** A fresh schema name (the storage creates the schema on open). */
export function uniqueSchema(): string {
  return `tc_test_${randomBytes(6).toString("hex")}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  await adminPool().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * Registers a beforeAll that fails every test of the file with a clear message when PostgreSQL is
 * not reachable, and an afterAll that closes the admin pool.
 */
export function usePostgres(): void {
  beforeAll(async () => {
    try {
      await adminPool().query("SELECT 1");
    } catch (error) {
      throw new Error(
        `PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}). ` +
          "These tests need a real server: start one (CI does) or point TRADECRON_TEST_PG at it.",
        { cause: error },
      );
    }
  });
  afterAll(async () => {
    const pool = admin;
    admin = null;
    await pool?.end();
  });
}
