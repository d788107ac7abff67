/**
 * The storage conformance tests of approval groups (part of `storageConformance`): members carry
 * their `groupId` through every write and read, the group is found by it, and
 * {@link Storage.transitionApprovalGroup} is all or none, also when deciders race.
 */

import assert from "node:assert/strict";
import type { ApprovalRecord } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { makeApproval } from "./fixtures.js";
import type { StoreHandle } from "./storage-suite.js";

type Register = (name: string, fn: (h: StoreHandle) => Promise<void>) => void;

let groupSeq = 0;

/** `size` pending members of one fresh group, created in reverse index order (so order is checked). */
function makeGroup(size: number, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord[] {
  groupSeq++;
  const groupId = `apg-suite-${groupSeq}-${Math.random().toString(36).slice(2, 8)}`;
  const createdAt = 1_767_700_000_000 + groupSeq * 1000;
  return Array.from({ length: size }, (_, i) =>
    makeApproval({
      groupId,
      intentIndex: size - 1 - i,
      createdAt,
      expiresAt: createdAt + 3_600_000,
      ...overrides,
    }),
  );
}

async function statuses(storage: Storage, members: readonly ApprovalRecord[]): Promise<string[]> {
  const out: string[] = [];
  for (const m of members) out.push((await storage.getApproval(m.id))?.status ?? "missing");
  return out;
}

/** Registers the approval-group tests. */
export function groupTests(describe: (name: string, fn: () => void) => void, test: Register): void {
  describe("storage conformance: approval groups", () => {
    test("keeps groupId on members (and leaves it off single approvals) and lists a group by it", async ({
      storage,
    }) => {
      const group = makeGroup(3);
      const single = makeApproval();
      const other = makeGroup(2);
      await storage.insertApprovals([...group, single]);
      await storage.insertApprovals(other);
      for (const m of group) assert.deepEqual(await storage.getApproval(m.id), m);
      const back = await storage.getApproval(single.id);
      assert.deepEqual(back, single);
      assert.ok(
        back && !("groupId" in back && back.groupId !== undefined),
        "a single approval has no groupId",
      );
      const groupId = (group[0] as ApprovalRecord).groupId as string;
      const listed = await storage.listApprovals({ groupId, limit: 10 });
      assert.deepEqual(listed.items.map((a) => a.id).sort(), group.map((a) => a.id).sort());
      const pendingOfGroup = await storage.listApprovals({ groupId, status: "pending", limit: 10 });
      assert.equal(pendingOfGroup.items.length, 3);
      assert.deepEqual((await storage.listApprovals({ groupId: "apg-none", limit: 10 })).items, []);
    });

    test("decides every member at once, returned in intentIndex order", async ({ storage }) => {
      const group = makeGroup(3);
      await storage.insertApprovals(group);
      const groupId = (group[0] as ApprovalRecord).groupId as string;
      const patch = {
        status: "approved" as const,
        decidedAt: 5,
        decidedBy: "alice",
        decisionReason: "plan ok",
      };
      const updated = await storage.transitionApprovalGroup(groupId, "pending", patch);
      assert.ok(updated, "the group was pending: the transition applies");
      assert.deepEqual(
        updated.map((a) => a.intentIndex),
        [0, 1, 2],
      );
      for (const a of updated) {
        assert.equal(a.status, "approved");
        assert.equal(a.decidedBy, "alice");
        assert.equal(a.groupId, groupId);
        assert.deepEqual(await storage.getApproval(a.id), a);
      }
      assert.equal(await storage.countApprovals("pending"), 0);
      assert.equal(await storage.countApprovals("approved"), 3);
      assert.equal(await storage.transitionApprovalGroup(groupId, "pending", patch), null, "decided once");
      assert.equal(
        await storage.transitionApprovalGroup("apg-missing", "pending", patch),
        null,
        "no members",
      );
    });

    test("changes nothing when one member is not in the expected status", async ({ storage }) => {
      const group = makeGroup(3);
      await storage.insertApprovals(group);
      const groupId = (group[0] as ApprovalRecord).groupId as string;
      const odd = group[1] as ApprovalRecord;
      assert.ok(
        await storage.transitionApproval(odd.id, "pending", { status: "expired", decidedBy: "system" }),
      );
      const result = await storage.transitionApprovalGroup(groupId, "pending", {
        status: "rejected",
        decidedBy: "bob",
      });
      assert.equal(result, null);
      assert.deepEqual(await statuses(storage, group), ["pending", "expired", "pending"]);
      for (const m of [group[0], group[2]] as ApprovalRecord[]) {
        assert.equal((await storage.getApproval(m.id))?.decidedBy, null, "untouched member");
      }
      assert.equal(await storage.countApprovals("pending"), 2);
      assert.equal(await storage.countApprovals("rejected"), 0);
    });

    test("ignores id and groupId in the patch and leaves other groups alone", async ({ storage }) => {
      const group = makeGroup(2);
      const neighbour = makeGroup(2);
      await storage.insertApprovals([...group, ...neighbour]);
      const groupId = (group[0] as ApprovalRecord).groupId as string;
      const updated = await storage.transitionApprovalGroup(groupId, "pending", {
        status: "expired",
        ...({ id: "hijack", groupId: "apg-other" } as object),
      });
      assert.ok(updated);
      assert.deepEqual(updated.map((a) => a.id).sort(), group.map((a) => a.id).sort());
      assert.ok(updated.every((a) => a.groupId === groupId));
      assert.equal(await storage.getApproval("hijack"), null);
      assert.deepEqual(await statuses(storage, neighbour), ["pending", "pending"]);
    });

    test("of two deciders racing (one approving, one rejecting), exactly one wins, for all members", async (h) => {
      // A second handle races as another process would, when the backend has one.
      const other = h.reopen ? await h.reopen() : h.storage;
      try {
        if (other !== h.storage) await other.open();
        for (let round = 0; round < 3; round++) {
          const g = makeGroup(4);
          const id = (g[0] as ApprovalRecord).groupId as string;
          await h.storage.insertApprovals(g);
          const [a, b] = await Promise.all([
            h.storage.transitionApprovalGroup(id, "pending", { status: "approved", decidedBy: "alice" }),
            other.transitionApprovalGroup(id, "pending", { status: "rejected", decidedBy: "bob" }),
          ]);
          assert.equal(
            [a, b].filter((r) => r !== null).length,
            1,
            `round ${round}: exactly one decider wins`,
          );
          const winner = (a ?? b) as ApprovalRecord[];
          assert.equal(winner.length, 4);
          const expected = a ? "approved" : "rejected";
          assert.deepEqual(await statuses(h.storage, g), [expected, expected, expected, expected]);
        }
      } finally {
        if (other !== h.storage) await other.close();
      }
    });

    test("expires a group as a unit", async ({ storage }) => {
      const now = 1_767_800_000_000;
      const group = makeGroup(3, { expiresAt: now - 1 });
      await storage.insertApprovals(group);
      const expired = await storage.listExpiredApprovals(now, 10);
      assert.deepEqual(expired.map((a) => a.id).sort(), group.map((a) => a.id).sort());
      const groupId = (group[0] as ApprovalRecord).groupId as string;
      const done = await storage.transitionApprovalGroup(groupId, "pending", {
        status: "expired",
        decidedAt: now,
        decidedBy: "system",
      });
      assert.equal(done?.length, 3);
      assert.deepEqual(await storage.listExpiredApprovals(now, 10), []);
    });
  });
}
