import { describe, expect, it } from "vitest";
import { ScheduleIndex } from "./schedule-index.js";

describe("a schedule's index in MemoryStorage", () => {
  it("keeps instants in claim order, inline for the first and in a map from the second", () => {
    const index = new ScheduleIndex();
    expect(index.size).toBe(0);
    index.set(2_000, "b");
    expect(index.get(2_000)).toBe("b");
    expect(index.get(1_000)).toBeUndefined();
    index.set(1_000, "a");
    index.set(3_000, "c");
    expect(index.size).toBe(3);
    expect([...index.ids()]).toEqual(["b", "a", "c"]);
    expect(index.get(1_000)).toBe("a");
  });

  it("drops an instant only when it indexes the given execution", () => {
    const one = new ScheduleIndex();
    one.set(1_000, "a");
    one.delete(1_000, "other");
    expect(one.get(1_000)).toBe("a");
    one.delete(1_000, "a");
    expect(one.size).toBe(0);
    expect(one.empty).toBe(true);
    const two = new ScheduleIndex();
    two.set(1_000, "a");
    two.set(2_000, "b");
    two.delete(2_000, "a");
    two.delete(1_000, "a");
    expect([...two.ids()]).toEqual(["b"]);
  });

  it("counts active executions as one id or a set, and is empty only with nothing left", () => {
    const index = new ScheduleIndex();
    index.activate("a");
    expect(index.active).toBe("a");
    index.activate("b");
    expect(index.active).toEqual(new Set(["a", "b"]));
    index.deactivate("a");
    expect(index.active).toBe("b");
    index.deactivate("b");
    expect(index.active).toBeNull();
    index.last = 5_000;
    expect(index.empty).toBe(false);
  });
});
