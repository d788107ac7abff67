/**
 * One approval group in the queue: its members in proposal order, and one approve or reject for
 * all of them (the API decides the group as a unit, all or none). After approval each member's
 * outcome is shown: the broker cannot be all or none, so a member refused on submission says so.
 */

import { type Approval, api, unwrap } from "../api.js";
import { Pill } from "../components/bits.js";
import { DecisionFacts } from "../components/decision-facts.js";
import { type Decision, DecisionForm, type DecisionOutcome } from "../components/decision-form.js";
import { canOperate } from "../state.js";
import { describe } from "./approvals.js";

/** The card of group `id` with the `members` the current listing holds. */
export function GroupCard(props: { id: string; members: Approval[]; onDecided: () => void }) {
  const members = [...props.members].sort((a, b) => a.intentIndex - b.intentIndex);
  const first = members[0];
  if (!first) return null;
  const pending = members.every((m) => m.status === "pending");
  const decide = async (kind: Decision, reason: string | undefined): Promise<DecisionOutcome> => {
    const body = reason ? { reason } : {};
    const params = { path: { id: props.id } };
    const res = await (kind === "approve"
      ? api.POST("/approval-groups/{id}/approve", { params, body })
      : api.POST("/approval-groups/{id}/reject", { params, body })
    ).then(unwrap);
    // An approval the server refused as a whole (the schedule was removed) rejected every member.
    const refused =
      kind === "approve" && res.results.length > 0 && res.results.every((r) => r.status === "rejected");
    if (refused) {
      return {
        done: `Group not approved (${res.results.length} orders)`,
        missed: res.results,
        missedAs: "rejected",
      };
    }
    return {
      done: `Group ${kind === "approve" ? "approved" : "rejected"} (${res.results.length} orders)`,
      // A rejection always takes every member; only an approval can leave members not submitted.
      missed: res.results.filter((r) => !r.ok && kind === "approve"),
      missedAs: "not submitted",
    };
  };
  return (
    <li class="card approval group" data-approval-group={props.id}>
      <div class="schedule-head">
        <h2>
          Group of {members.length} orders from {first.scheduleId}
        </h2>
        <Pill value={pending ? "pending" : (first.status ?? "mixed")} />
      </div>
      <p>{first.rationale ?? ""}</p>
      <ol class="members" aria-label={`Orders of group ${props.id}`}>
        {members.map((m) => (
          <li key={m.id} data-approval={m.id}>
            {describe(m)} <Pill value={m.riskLevel} /> <Pill value={m.status} />
            {m.error ? <span class="warn-text"> {m.error.message}</span> : null}
          </li>
        ))}
      </ol>
      <dl class="facts">
        <DecisionFacts approval={first} pending={pending} />
      </dl>
      {pending && canOperate.value ? (
        <DecisionForm
          legend="Decide on the whole group"
          reasonId={`g-reason-${props.id}`}
          reasonLabel="Reason for the group decision (audit log)"
          approveLabel="Approve group"
          rejectLabel="Reject group"
          onDecide={decide}
          onDecided={props.onDecided}
        />
      ) : null}
    </li>
  );
}
