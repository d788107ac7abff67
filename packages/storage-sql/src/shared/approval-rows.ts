/**
 * Reading approvals back: the row decoded, and its `groupId` checked (a `group_id` changed by hand
 * must not join an approval to a group, or split one, unnoticed).
 */

import { type ApprovalRecord, StorageError, storedGroupIdProblem } from "@tradecron/core";
import { APPROVALS, type Codec, decodeRow } from "./rows.js";

/** The approval of `row`; StorageError `STORAGE_CORRUPT` naming it when its `group_id` is not a group id. */
export function decodeApproval(row: Record<string, unknown>, codec: Codec, storage: string): ApprovalRecord {
  const record = decodeRow<ApprovalRecord>(APPROVALS, row, codec);
  const problem = storedGroupIdProblem(record.groupId);
  if (problem) {
    throw new StorageError(
      "STORAGE_CORRUPT",
      `${storage}: approval '${record.id}' cannot be used: ${problem}`,
      {
        details: { subject: "approval", id: record.id, reason: problem },
      },
    );
  }
  return record;
}
