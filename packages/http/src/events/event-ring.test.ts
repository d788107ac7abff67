import { describe, expect, it } from "vitest";
import { EventRing } from "./event-ring.js";

const entry = (seq: number) => ({ id: `ep-${seq}`, seq, frame: `f${seq}` });

describe("EventRing", () => {
  it("keeps the latest entries up to its capacity, oldest first", () => {
    const ring = new EventRing(3, "ep");
    for (let i = 1; i <= 5; i++) ring.push(entry(i));
    expect(ring.toArray().map((e) => e.seq)).toEqual([3, 4, 5]);
  });

  it("resumes after a known id, and refuses ids it can no longer answer for", () => {
    const ring = new EventRing(3, "ep");
    for (let i = 1; i <= 5; i++) ring.push(entry(i));
    expect(ring.since("ep-2")?.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(ring.since("ep-4")?.map((e) => e.seq)).toEqual([5]);
    expect(ring.since("ep-5")).toEqual([]);
    expect(ring.since("ep-1")).toBeNull(); // 2 is gone
    expect(ring.since("ep-6")).toBeNull(); // from the future
    expect(ring.since("other-3")).toBeNull();
    expect(ring.since("ep-x")).toBeNull();
    expect(ring.since("-3")).toBeNull();
    expect(ring.since("ep-99999999999999999999")).toBeNull();
  });

  it("with capacity 0 keeps nothing and resumes only from the start", () => {
    const ring = new EventRing(0, "ep");
    ring.push(entry(1));
    expect(ring.toArray()).toEqual([]);
    expect(ring.since("ep-0")).toEqual([]);
    expect(ring.since("ep-1")).toBeNull();
  });
});
