/** The cron semantics the root README documents (where implementations differ), pinned. */

import { describe, expect, it } from "vitest";
import { compileTrigger, nextFires } from "../triggers/compile.js";

function fires(expression: string, timezone: string, from: string, count: number): string[] {
  const trigger = compileTrigger({ type: "cron", expression, timezone }, "readme");
  return nextFires(trigger, Date.parse(from), count).map((t) => new Date(t).toISOString());
}

describe("cron semantics documented in the README", () => {
  it("ORs the two day fields when both are restricted, also when one starts with * (no Vixie AND)", () => {
    expect(fires("0 9 13 * 5", "UTC", "2026-02-01T00:00:00Z", 3)).toEqual([
      "2026-02-06T09:00:00.000Z", // a Friday
      "2026-02-13T09:00:00.000Z", // the 13th (also a Friday)
      "2026-02-20T09:00:00.000Z",
    ]);
    expect(fires("0 0 */2 * 1", "UTC", "2026-02-01T00:00:00Z", 3)).toEqual([
      "2026-02-02T00:00:00.000Z", // Monday 2nd (not an odd day)
      "2026-02-03T00:00:00.000Z", // odd day, not a Monday
      "2026-02-05T00:00:00.000Z",
    ]);
  });

  it("steps through elapsed time with a step without *: a repeated wall time fires in both passes", () => {
    expect(fires("0 1-3/2 * * *", "America/New_York", "2026-11-01T00:00:00Z", 3)).toEqual([
      "2026-11-01T05:00:00.000Z", // 01:00 EDT
      "2026-11-01T06:00:00.000Z", // 01:00 EST
      "2026-11-01T08:00:00.000Z", // 03:00 EST
    ]);
    // A range without a step is a set of fixed times: 01:00 fires once, at its first occurrence.
    expect(fires("0 1-3 * * *", "America/New_York", "2026-11-01T00:00:00Z", 3)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T07:00:00.000Z",
      "2026-11-01T08:00:00.000Z",
    ]);
  });

  it("fires once when a gap-shifted fixed time lands on another fire of the same expression", () => {
    expect(fires("30 2,3 * * *", "America/New_York", "2026-03-08T00:00:00Z", 2)).toEqual([
      "2026-03-08T07:30:00.000Z", // 03:30 EDT: the shifted 02:30 and the own 03:30, once
      "2026-03-09T06:30:00.000Z", // 02:30 EDT the next day
    ]);
  });
});
