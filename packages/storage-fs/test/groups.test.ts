/**
 * FileStorage specifics of approval groups: a group decision is one line of `approvals.jsonl`, so
 * a write torn by kill -9 or power loss leaves every member as it was, never half decided.
 */

import { readFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { makeApproval } from "@tradecron/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage } from "../src/index.js";
import { tempDir } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function fresh() {
  const { dir, remove } = await tempDir("tc-groups-");
  const stores: FileStorage[] = [];
  cleanups.push(async () => {
    for (const s of stores) await s.close().catch(() => {});
    await remove();
  });
  const open = async () => {
    const s = new FileStorage({ dir });
    stores.push(s);
    await s.open();
    return s;
  };
  return { dir, open };
}

const group = (id: string) => [0, 1, 2].map((i) => makeApproval({ groupId: id, intentIndex: i }));

describe("FileStorage approval groups", () => {
  it("writes a group decision as one line holding every member", async () => {
    const { dir, open } = await fresh();
    const storage = await open();
    await storage.insertApprovals(group("apg-one-line"));
    const before = (await readFile(join(dir, "approvals.jsonl"), "utf8")).trim().split("\n").length;
    const decided = await storage.transitionApprovalGroup("apg-one-line", "pending", { status: "approved" });
    expect(decided).toHaveLength(3);
    const lines = (await readFile(join(dir, "approvals.jsonl"), "utf8")).trim().split("\n");
    expect(lines.length).toBe(before + 1);
    const last = JSON.parse(lines.at(-1) as string) as { recs: { status: string; groupId: string }[] };
    expect(last.recs.map((r) => [r.status, r.groupId])).toEqual([
      ["approved", "apg-one-line"],
      ["approved", "apg-one-line"],
      ["approved", "apg-one-line"],
    ]);
    await storage.close();
    const again = await open();
    const members = await again.listApprovals({ groupId: "apg-one-line", limit: 10 });
    expect(members.items.map((a) => a.status)).toEqual(["approved", "approved", "approved"]);
  });

  it("keeps every member pending when the decision's line was torn by a crash", async () => {
    const { dir, open } = await fresh();
    const storage = await open();
    const members = group("apg-torn");
    await storage.insertApprovals(members);
    await storage.transitionApprovalGroup("apg-torn", "pending", { status: "rejected", decidedBy: "bob" });
    await storage.close();
    const path = join(dir, "approvals.jsonl");
    const text = await readFile(path, "utf8");
    // Cut the last line in the middle of its second member, as a crash mid-write would.
    const lastStart = text.trimEnd().lastIndexOf("\n") + 1;
    await truncate(
      path,
      Buffer.byteLength(text.slice(0, lastStart + Math.floor((text.length - lastStart) / 2))),
    );
    const again = await open();
    const after = await again.listApprovals({ groupId: "apg-torn", limit: 10 });
    expect(after.items.map((a) => a.status)).toEqual(["pending", "pending", "pending"]);
    expect(await again.countApprovals("rejected")).toBe(0);
    // And the group can still be decided afterwards.
    expect(await again.transitionApprovalGroup("apg-torn", "pending", { status: "approved" })).toHaveLength(
      3,
    );
  });
});
