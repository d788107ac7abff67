import { describe, expect, it } from "vitest";
import { FireQueue, type QueueEntry } from "./fire-queue.js";

interface E extends QueueEntry {
  name: number;
}

describe("FireQueue", () => {
  it("always yields the earliest entry, FIFO among equal instants, under random set/delete/replaceHead", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const q = new FireQueue<E>();
    const entries: E[] = Array.from({ length: 500 }, (_, name) => ({ name, at: 0, seq: 0, index: -1 }));
    const model = new Map<number, { at: number; order: number }>();
    let order = 0;
    for (let step = 0; step < 5000; step++) {
      const e = entries[Math.floor(rand() * entries.length)] as E;
      const op = rand();
      const head = q.peek();
      if (op >= 0.85 && head) {
        // The loop's move of a fired head to its next instant.
        const at = Math.floor(rand() * 100);
        q.replaceHead(head, at);
        model.set(head.name, { at, order: order++ });
      } else if (op < 0.6) {
        const at = Math.floor(rand() * 100);
        q.set(e, at);
        model.set(e.name, { at, order: order++ });
      } else {
        q.delete(e);
        model.delete(e.name);
      }
      expect(q.size).toBe(model.size);
    }
    const popped: number[] = [];
    for (let e = q.pop(); e; e = q.pop()) popped.push(e.name);
    const expected = [...model.entries()]
      .sort((a, b) => a[1].at - b[1].at || a[1].order - b[1].order)
      .map(([name]) => name);
    expect(popped).toEqual(expected);
  });

  it("counts the entries due by an instant, up to a cap, whatever the heap's shape", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed;
    };
    const q = new FireQueue<E>();
    const ats: number[] = [];
    for (let i = 0; i < 500; i++) {
      const at = rand() % 50;
      ats.push(at);
      q.set({ at: 0, seq: 0, index: -1, name: i }, at);
    }
    for (const by of [-1, 0, 10, 25, 49, 100]) {
      const due = ats.filter((at) => at <= by).length;
      expect(q.countDue(by, 1000)).toBe(due);
      expect(q.countDue(by, 64)).toBe(Math.min(due, 64));
    }
    expect(new FireQueue<E>().countDue(10, 64)).toBe(0);
  });
});
