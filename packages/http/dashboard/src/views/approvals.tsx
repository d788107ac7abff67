/**
 * The approval queue: filter by risk and status, see each proposal's rationale, supporting data
 * and time left before it expires, select many and approve or reject them with a reason. The
 * members of an approval group (a rebalance plan) are shown together in one card, decided with
 * one approve or reject for the whole group (see approval-group.tsx).
 */

import { useSignal } from "@preact/signals";
import { type Approval, api, unwrap } from "../api.js";
import { ErrorText, Heading, Json, Pill, Time } from "../components/bits.js";
import { DecisionFacts } from "../components/decision-facts.js";
import { type Decision, DecisionForm, type DecisionOutcome } from "../components/decision-form.js";
import { useLoad } from "../components/use-load.js";
import { go, route } from "../router.js";
import { canOperate, ticks } from "../state.js";
import { GroupCard } from "./approval-group.js";

type Intent = {
  symbol?: string;
  side?: string;
  qty?: string;
  notional?: string;
  type?: string;
  limitPrice?: string;
};

/** One line for an order intent: side, size, symbol and price. */
export function describe(a: Approval): string {
  const i = (a.intent ?? {}) as Intent;
  const size = i.qty ? `${i.qty}` : i.notional ? `$${i.notional} of` : "";
  const price = i.type === "limit" && i.limitPrice ? ` @ ${i.limitPrice}` : i.type ? ` (${i.type})` : "";
  return `${i.side ?? "?"} ${size} ${i.symbol ?? "?"}${price}`.replace(/\s+/g, " ");
}

/** The approval queue page. */
export function Approvals() {
  const q = route.value.query;
  const risk = q.get("risk") ?? "";
  // "any" is spelled out in the link: an empty value would be dropped and mean the default, pending.
  const statusFilter = q.get("status") ?? "pending";
  const selected = useSignal<Set<string>>(new Set());
  const list = useLoad(
    () =>
      api
        .GET("/approvals", {
          params: {
            query: {
              limit: "200",
              ...(statusFilter && statusFilter !== "any" ? { status: statusFilter } : {}),
              ...(risk ? { riskLevel: risk } : {}),
            },
          },
        })
        .then(unwrap),
    [risk, statusFilter, ticks.approvals.value],
  );
  const all = list.data?.items ?? [];
  // Group members are decided only as their group: they leave the single list for one card each.
  const items = all.filter((a) => !a.groupId);
  const groups = new Map<string, Approval[]>();
  for (const a of all) if (a.groupId) groups.set(a.groupId, [...(groups.get(a.groupId) ?? []), a]);
  const pendingIds = items.filter((a) => a.status === "pending").map((a) => a.id);
  const chosen = pendingIds.filter((id) => selected.value.has(id));
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected.value);
    if (on) next.add(id);
    else next.delete(id);
    selected.value = next;
  };
  const decide = async (kind: Decision, reason: string | undefined): Promise<DecisionOutcome> => {
    const body = { ids: chosen, ...(reason ? { reason } : {}) };
    const res = await (kind === "approve"
      ? api.POST("/approvals/approve", { body })
      : api.POST("/approvals/reject", { body })
    ).then(unwrap);
    const ok = res.results.filter((r) => r.ok).length;
    return {
      done: `${ok} ${kind === "approve" ? "approved" : "rejected"}`,
      missed: res.results.filter((r) => !r.ok),
      missedAs: "not decided",
    };
  };
  return (
    <section>
      <Heading>Approvals</Heading>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <div class="field">
          <label for="a-risk">Risk</label>
          <select
            id="a-risk"
            value={risk}
            onChange={(e) =>
              go("/approvals", { risk: (e.target as HTMLSelectElement).value, status: statusFilter })
            }
          >
            <option value="">any</option>
            <option value="high">high</option>
            <option value="medium">medium</option>
            <option value="low">low</option>
          </select>
        </div>
        <div class="field">
          <label for="a-status">Status</label>
          <select
            id="a-status"
            value={statusFilter}
            onChange={(e) => go("/approvals", { risk, status: (e.target as HTMLSelectElement).value })}
          >
            {["pending", "submitted", "approved", "rejected", "expired", "failed", "any"].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      {canOperate.value && pendingIds.length > 0 ? (
        <DecisionForm
          card
          legend="Decide on the selected proposals"
          reasonId="a-reason"
          reasonLabel="Reason for the decision (audit log)"
          approveLabel={<>Approve {chosen.length || ""}</>}
          rejectLabel={<>Reject {chosen.length || ""}</>}
          ready={chosen.length > 0}
          onDecide={decide}
          onDecided={() => {
            selected.value = new Set();
            list.reload();
          }}
        >
          <label class="check">
            <input
              type="checkbox"
              checked={chosen.length === pendingIds.length}
              onChange={(e) => {
                selected.value = (e.target as HTMLInputElement).checked ? new Set(pendingIds) : new Set();
              }}
            />
            Select all {pendingIds.length} pending
          </label>
        </DecisionForm>
      ) : null}
      <ErrorText error={list.error} />
      {all.length === 0 && !list.loading ? <p class="muted">Nothing here.</p> : null}
      {groups.size > 0 ? (
        <ul class="cards" aria-label="Groups">
          {[...groups.entries()].map(([id, members]) => (
            <GroupCard key={id} id={id} members={members} onDecided={() => list.reload()} />
          ))}
        </ul>
      ) : null}
      <ul class="cards" aria-label="Proposals">
        {items.map((a) => (
          <li key={a.id} class="card approval" data-approval={a.id}>
            <div class="schedule-head">
              {a.status === "pending" && canOperate.value ? (
                <input
                  type="checkbox"
                  id={`sel-${a.id}`}
                  checked={selected.value.has(a.id)}
                  onChange={(e) => toggle(a.id, (e.target as HTMLInputElement).checked)}
                  aria-label={`Select ${describe(a)}`}
                />
              ) : null}
              <h2>
                <label for={`sel-${a.id}`}>{describe(a)}</label>
              </h2>
              <Pill value={a.riskLevel} />
              <Pill value={a.status} />
              {a.confidence !== null ? (
                <span class="muted">confidence {Math.round(a.confidence * 100)}%</span>
              ) : null}
            </div>
            <dl class="facts">
              <dt>Rationale</dt>
              <dd>{a.rationale ?? "—"}</dd>
              <dt>From</dt>
              <dd>
                {a.scheduleId}, <Time iso={a.createdAt} />
              </dd>
              <DecisionFacts approval={a} pending={a.status === "pending"} />
              {a.error ? (
                <>
                  <dt>Error</dt>
                  <dd>{a.error.message}</dd>
                </>
              ) : null}
              <dt>Supporting data</dt>
              <dd>
                <Json value={a.supportingData} />
              </dd>
            </dl>
          </li>
        ))}
      </ul>
    </section>
  );
}
