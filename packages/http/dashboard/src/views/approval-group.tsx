/**
 * One approval group in the queue: its members in proposal order, and one approve or reject for
 * all of them (the API decides the group as a unit, all or none). After approval each member's
 * outcome is shown: the broker cannot be all or none, so a member refused on submission says so.
 */

import { useSignal } from "@preact/signals";
import { type Approval, api, unwrap } from "../api.js";
import { Pill, Time } from "../components/bits.js";
import { relative } from "../format.js";
import { canOperate, now, refreshOverview, say } from "../state.js";
import { describe } from "./approvals.js";

/** The card of group `id` with the `members` the current listing holds. */
export function GroupCard(props: { id: string; members: Approval[]; onDecided: () => void }) {
  const reason = useSignal("");
  const busy = useSignal(false);
  const members = [...props.members].sort((a, b) => a.intentIndex - b.intentIndex);
  const first = members[0];
  if (!first) return null;
  const pending = members.every((m) => m.status === "pending");
  const left = Date.parse(first.expiresAt) - now.value;
  const decide = async (kind: "approve" | "reject") => {
    busy.value = true;
    try {
      const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
      const params = { path: { id: props.id } };
      const res = await (kind === "approve"
        ? api.POST("/approval-groups/{id}/approve", { params, body })
        : api.POST("/approval-groups/{id}/reject", { params, body })
      ).then(unwrap);
      const refused = res.results.filter((r) => !r.ok && kind === "approve");
      say(
        `Group ${kind === "approve" ? "approved" : "rejected"} (${res.results.length} orders)${refused.length ? `; ${refused.length} not submitted: ${refused.map((r) => `${r.id} (${r.reason ?? r.code})`).join(", ")}` : ""}.`,
        refused.length ? "error" : "info",
      );
      reason.value = "";
      props.onDecided();
      await refreshOverview();
    } catch (e) {
      say((e as Error).message, "error");
    } finally {
      busy.value = false;
    }
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
        {pending ? (
          <>
            <dt>Expires</dt>
            <dd class={left < 15 * 60_000 ? "warn-text" : ""}>
              {left > 0 ? `${relative(first.expiresAt, now.value).replace(/^in /, "")} left` : "expiring"}
            </dd>
          </>
        ) : (
          <>
            <dt>Decided</dt>
            <dd>
              {first.decidedBy ?? "—"} <Time iso={first.decidedAt} />
              {first.decisionReason ? ` — “${first.decisionReason}”` : ""}
            </dd>
          </>
        )}
      </dl>
      {pending && canOperate.value ? (
        <fieldset class="decide">
          <legend class="sr-only">Decide on the whole group</legend>
          <div class="field grow">
            <label for={`g-reason-${props.id}`}>Reason for the group decision (audit log)</label>
            <input
              id={`g-reason-${props.id}`}
              value={reason.value}
              onInput={(e) => (reason.value = (e.target as HTMLInputElement).value)}
            />
          </div>
          <button type="button" class="primary" disabled={busy.value} onClick={() => decide("approve")}>
            Approve group
          </button>
          <button type="button" class="danger" disabled={busy.value} onClick={() => decide("reject")}>
            Reject group
          </button>
        </fieldset>
      ) : null}
    </li>
  );
}
