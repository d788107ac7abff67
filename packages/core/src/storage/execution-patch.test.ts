import { describe, expect, it } from "vitest";
import type { ExecutionRecord } from "./records.js";
import { applyExecutionPatch, EXECUTION_PATCH_KEYS, type ExecutionPatch } from "./storage.js";

const current: ExecutionRecord = {
  id: "e1",
  scheduleId: "s",
  job: "job",
  scheduledAt: 1_000,
  kind: "scheduled",
  status: "running",
  reason: null,
  attempts: 1,
  claimedAt: 1_000,
  startedAt: 1_000,
  endedAt: null,
  instanceId: "a",
  leaseExpiresAt: 31_000,
  actor: null,
  error: null,
  result: null,
  details: null,
  idempotencyKey: "s@1970-01-01T00:00:01.000Z",
};

describe("applyExecutionPatch", () => {
  it("changes exactly the EXECUTION_PATCH_KEYS a patch carries and keeps every other field", () => {
    // A marker value per patchable key: each must come through, and nothing else may move.
    const patch = Object.fromEntries(EXECUTION_PATCH_KEYS.map((key) => [key, `new ${key}`]));
    const next = applyExecutionPatch(current, {
      ...patch,
      scheduleId: "moved",
      id: "other",
    } as ExecutionPatch);
    for (const key of Object.keys(current) as (keyof ExecutionRecord)[]) {
      const patched = (EXECUTION_PATCH_KEYS as readonly string[]).includes(key);
      expect(next[key], key).toBe(patched ? `new ${key}` : current[key]);
    }
    expect(Object.keys(next).sort()).toEqual(Object.keys(current).sort());
  });

  it("leaves a field the patch does not name as it was, and sets one named with undefined", () => {
    const next = applyExecutionPatch(current, { status: "succeeded", result: undefined } as ExecutionPatch);
    expect(next.status).toBe("succeeded");
    expect(next.endedAt).toBeNull();
    expect("result" in next && next.result === undefined).toBe(true);
    expect(next.attempts).toBe(1);
  });
});
