/** Execution history with filters, and one execution's attempts, error, result and orders. */

import { useSignal } from "@preact/signals";
import { api, type Execution, unwrap } from "../api.js";
import { ErrorText, Heading, Json, Pill, Time } from "../components/bits.js";
import { useLoad } from "../components/use-load.js";
import { go, href, route } from "../router.js";
import { ticks } from "../state.js";
import { OrderTable } from "./orders.js";

type Filters = { scheduleId?: string; status?: string; kind?: string };

/** A table of executions with "load more" cursor paging. */
export function ExecutionTable({ filters }: { filters: Filters }) {
  const extra = useSignal<Execution[]>([]);
  const cursor = useSignal<string | null>(null);
  const query = {
    limit: "25",
    ...(filters.scheduleId ? { scheduleId: filters.scheduleId } : {}),
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.kind ? { kind: filters.kind } : {}),
  };
  const page = useLoad(async () => {
    const p = await api.GET("/executions", { params: { query } }).then(unwrap);
    extra.value = [];
    cursor.value = p.nextCursor;
    return p;
  }, [JSON.stringify(query), ticks.executions.value]);
  const more = async () => {
    if (!cursor.value) return;
    const p = await api
      .GET("/executions", { params: { query: { ...query, cursor: cursor.value } } })
      .then(unwrap);
    extra.value = [...extra.value, ...p.items];
    cursor.value = p.nextCursor;
  };
  const rows = [...(page.data?.items ?? []), ...extra.value];
  return (
    <>
      <ErrorText error={page.error} />
      <table aria-label="Executions">
        <thead>
          <tr>
            <th scope="col">Due</th>
            <th scope="col">Schedule</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">By</th>
            <th scope="col">Why / error</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.id} data-execution={e.id}>
              <td>
                <a href={href(`/executions/${encodeURIComponent(e.id)}`)}>
                  <Time iso={e.scheduledAt} />
                </a>
              </td>
              <td>{e.scheduleId}</td>
              <td>{e.kind}</td>
              <td>
                <Pill value={e.status} />
              </td>
              <td>{e.attempts}</td>
              <td>{e.actor ?? "—"}</td>
              <td>{e.error?.message ?? e.reason ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && !page.loading ? <p class="muted">No executions.</p> : null}
      {cursor.value ? (
        <button type="button" onClick={more}>
          Load more
        </button>
      ) : null}
    </>
  );
}

const STATUSES = ["", "running", "succeeded", "failed", "timed_out", "skipped", "cancelled", "claimed"];
const KINDS = ["", "scheduled", "catchup", "manual", "backfill"];

/** The execution history page with its filters (kept in the address, so they can be shared). */
export function Executions() {
  const q = route.value.query;
  const filters: Filters = {
    scheduleId: q.get("scheduleId") ?? undefined,
    status: q.get("status") ?? undefined,
    kind: q.get("kind") ?? undefined,
  };
  const set = (key: keyof Filters, value: string) =>
    go("/executions", { ...filters, [key]: value || undefined });
  return (
    <section>
      <Heading>Executions</Heading>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <div class="field">
          <label for="x-schedule">Schedule id</label>
          <input
            id="x-schedule"
            value={filters.scheduleId ?? ""}
            onChange={(e) => set("scheduleId", (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="x-status">Status</label>
          <select
            id="x-status"
            value={filters.status ?? ""}
            onChange={(e) => set("status", (e.target as HTMLSelectElement).value)}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="x-kind">Kind</label>
          <select
            id="x-kind"
            value={filters.kind ?? ""}
            onChange={(e) => set("kind", (e.target as HTMLSelectElement).value)}
          >
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k || "any"}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ExecutionTable filters={filters} />
    </section>
  );
}

/** One execution. */
export function ExecutionDetail({ id }: { id: string }) {
  const d = useLoad(
    () => api.GET("/executions/{id}", { params: { path: { id } } }).then(unwrap),
    [id, ticks.executions.value],
  );
  const e = d.data?.execution;
  return (
    <section>
      <p>
        <a href={href("/executions")}>← Executions</a>
      </p>
      <ErrorText error={d.error} />
      {e ? (
        <>
          <div class="page-head">
            <Heading>Execution of {e.scheduleId}</Heading>
            <Pill value={e.status} />
          </div>
          <dl class="facts card">
            <dt>Due</dt>
            <dd>
              <Time iso={e.scheduledAt} />
            </dd>
            <dt>Kind</dt>
            <dd>
              {e.kind}
              {e.actor ? ` by ${e.actor}` : ""}
            </dd>
            <dt>Attempts</dt>
            <dd>{e.attempts}</dd>
            <dt>Started / ended</dt>
            <dd>
              <Time iso={e.startedAt} /> / <Time iso={e.endedAt} />
            </dd>
            <dt>Instance</dt>
            <dd>{e.instanceId}</dd>
            <dt>Idempotency key</dt>
            <dd>
              <code>{e.idempotencyKey}</code>
            </dd>
            {e.reason ? (
              <>
                <dt>Reason</dt>
                <dd>{e.reason}</dd>
              </>
            ) : null}
            <dt>Error</dt>
            <dd>
              {e.error ? `${e.error.name}${e.error.code ? ` ${e.error.code}` : ""}: ${e.error.message}` : "—"}
            </dd>
            <dt>Result</dt>
            <dd>
              <Json value={e.result} />
            </dd>
            {e.details ? (
              <>
                <dt>Details</dt>
                <dd>
                  <Json value={e.details} />
                </dd>
              </>
            ) : null}
          </dl>
          <h2>Orders of this fire</h2>
          <OrderTable orders={d.data?.orders ?? []} />
          <h2>Approvals of this fire</h2>
          {(d.data?.approvals ?? []).length === 0 ? <p class="muted">None.</p> : null}
          <ul>
            {(d.data?.approvals ?? []).map((a) => (
              <li key={a.id}>
                <a href={href("/approvals", { status: a.status })}>{a.id}</a> <Pill value={a.status} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
