import { describe, expect, it } from "vitest";
import { newExecutionId } from "./execution-id.js";

describe("execution ids", () => {
  it("are version-4 UUID-shaped, distinct, and sort in the order they were made", () => {
    const ids = Array.from({ length: 10_000 }, () => newExecutionId());
    for (const id of [ids[0], ids[5_000], ids[9_999]])
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
