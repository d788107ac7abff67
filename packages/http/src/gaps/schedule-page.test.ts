import { makeSchedule } from "@tradecron/core/testing";
import { describe, expect, it } from "vitest";
import { pageSchedules } from "./schedule-page.js";

describe("pageSchedules", () => {
  const records = ["c", "a", "e", "b", "d"].map((id, i) =>
    makeSchedule({ id, job: i % 2 ? "x" : "y", tags: i < 2 ? ["t"] : [], paused: id === "e" }),
  );

  it("pages by id with a cursor, every record once", () => {
    const first = pageSchedules(records, { limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual(["a", "b"]);
    const second = pageSchedules(records, { limit: 2, cursor: first.nextCursor as string });
    expect(second.items.map((r) => r.id)).toEqual(["c", "d"]);
    const last = pageSchedules(records, { limit: 2, cursor: second.nextCursor as string });
    expect(last).toEqual({ items: [expect.objectContaining({ id: "e" })], nextCursor: null });
  });

  it("filters by job, tag, paused and enabled", () => {
    expect(pageSchedules(records, { limit: 10, job: "x" }).items.map((r) => r.id)).toEqual(["a", "b"]);
    expect(pageSchedules(records, { limit: 10, tag: ["t"] }).items.map((r) => r.id)).toEqual(["a", "c"]);
    expect(pageSchedules(records, { limit: 10, paused: true }).items.map((r) => r.id)).toEqual(["e"]);
    expect(pageSchedules(records, { limit: 10, enabled: false }).items).toEqual([]);
  });

  it("rejects a malformed cursor with a validation error naming it", () => {
    expect(() => pageSchedules(records, { limit: 2, cursor: "!!" })).toThrow(/cursor/);
  });
});
