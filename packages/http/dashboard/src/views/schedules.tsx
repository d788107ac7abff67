/** Schedules: the list (next and last fire, status, actions, preview strip) and one schedule. */

import { useSignal } from "@preact/signals";
import { api, type Schedule, unwrap } from "../api.js";
import { ErrorText, Heading, Json, Pill, PreviewStrip, Time } from "../components/bits.js";
import { useLoad } from "../components/use-load.js";
import { describeTrigger } from "../format.js";
import { go, href } from "../router.js";
import { canAdmin, canOperate, say, ticks } from "../state.js";
import { ExecutionTable } from "./executions.js";
import { ScheduleForm } from "./schedule-form.js";

function stateOf(s: Schedule): string {
  if (!s.enabled) return "disabled";
  if (s.paused) return "paused";
  return s.state.handled ? "active" : "unhandled";
}

async function act(id: string, action: "pause" | "resume" | "trigger", after: () => void) {
  try {
    if (action === "trigger") {
      const e = await api
        .POST("/schedules/{id}/trigger", { params: { path: { id } }, body: {} })
        .then(unwrap);
      say(`Manual run of ${id} started (${e.status}).`);
    } else {
      const options = { params: { path: { id } }, body: {} };
      await (action === "pause"
        ? api.POST("/schedules/{id}/pause", options)
        : api.POST("/schedules/{id}/resume", options)
      ).then(unwrap);
      say(`Schedule ${id} ${action === "pause" ? "paused" : "resumed"}.`);
    }
    after();
  } catch (e) {
    say((e as Error).message, "error");
  }
}

/** Pause/resume and run-now buttons of one schedule. */
function Actions({ s, after }: { s: Schedule; after(): void }) {
  if (!canOperate.value) return null;
  return (
    <span class="row-actions">
      {s.paused ? (
        <button type="button" onClick={() => act(s.id, "resume", after)} aria-label={`Resume ${s.name}`}>
          Resume
        </button>
      ) : (
        <button type="button" onClick={() => act(s.id, "pause", after)} aria-label={`Pause ${s.name}`}>
          Pause
        </button>
      )}
      <button type="button" onClick={() => act(s.id, "trigger", after)} aria-label={`Run ${s.name} now`}>
        Run now
      </button>
    </span>
  );
}

/** The coming fires of a saved schedule. */
function SchedulePreview({ id, count }: { id: string; count: number }) {
  const p = useLoad(
    () =>
      api
        .GET("/schedules/{id}/preview", { params: { path: { id }, query: { count: String(count) } } })
        .then(unwrap),
    [id, count, ticks.schedules.value],
  );
  return (
    <>
      <ErrorText error={p.error} />
      <PreviewStrip fires={p.data?.fires ?? []} label={`Coming fires of ${id}`} />
    </>
  );
}

/** The schedule list. */
export function Schedules() {
  const creating = useSignal(false);
  const list = useLoad(
    () => api.GET("/schedules", { params: { query: { limit: "500" } } }).then(unwrap),
    [ticks.schedules.value],
  );
  return (
    <section>
      <div class="page-head">
        <Heading>Schedules</Heading>
        {canAdmin.value && !creating.value ? (
          <button type="button" class="primary" onClick={() => (creating.value = true)}>
            New schedule
          </button>
        ) : null}
      </div>
      {creating.value ? <ScheduleForm onDone={() => (creating.value = false)} /> : null}
      <ErrorText error={list.error} />
      {list.data && list.data.items.length === 0 ? <p class="muted">No schedules yet.</p> : null}
      <ul class="cards" aria-label="Schedules">
        {(list.data?.items ?? []).map((s) => (
          <li key={s.id} class="card schedule" data-schedule={s.id}>
            <div class="schedule-head">
              <h2>
                <a href={href(`/schedules/${encodeURIComponent(s.id)}`)}>{s.name}</a>
              </h2>
              <Pill value={stateOf(s)} />
              <span class="muted">
                {s.job} · {describeTrigger(s.trigger as never)}
                {s.marketHoursOnly ? " · market hours only" : ""}
                {s.requiresApproval ? " · needs approval" : ""}
              </span>
              <Actions s={s} after={list.reload} />
            </div>
            <dl class="facts">
              <dt>Next fire</dt>
              <dd>
                {s.paused && s.state.nextFireOnceResumedAt ? (
                  <>
                    paused; once resumed <Time iso={s.state.nextFireOnceResumedAt} />
                  </>
                ) : (
                  <Time iso={s.state.nextFireAt} />
                )}
              </dd>
              <dt>Last fire</dt>
              <dd class="last-fire">
                <Time iso={s.state.lastStartAt} /> <Pill value={s.state.lastStatus} />
              </dd>
              <dt>Runs</dt>
              <dd class="counters">
                {s.state.counters.fires} fires, {s.state.counters.succeeded} ok, {s.state.counters.failed}{" "}
                failed, {s.state.counters.skipped} skipped
              </dd>
            </dl>
            <SchedulePreview id={s.id} count={6} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** One schedule: its settings, the coming fires, and its recent executions. */
export function ScheduleDetail({ id }: { id: string }) {
  const s = useLoad(
    () => api.GET("/schedules/{id}", { params: { path: { id } } }).then(unwrap),
    [id, ticks.schedules.value],
  );
  const remove = async () => {
    if (!window.confirm(`Delete schedule ${id}? Its history stays.`)) return;
    try {
      await api.DELETE("/schedules/{id}", { params: { path: { id } } }).then(unwrap);
      say(`Schedule ${id} deleted.`);
      go("/schedules");
    } catch (e) {
      say((e as Error).message, "error");
    }
  };
  const d = s.data;
  return (
    <section>
      <p>
        <a href={href("/schedules")}>← Schedules</a>
      </p>
      <ErrorText error={s.error} />
      {d ? (
        <>
          <div class="page-head">
            <Heading>{d.name}</Heading>
            <Pill value={stateOf(d)} />
            <Actions s={d} after={s.reload} />
            {canAdmin.value ? (
              <button type="button" class="danger-quiet" onClick={remove}>
                Delete
              </button>
            ) : null}
          </div>
          <dl class="facts card">
            <dt>Id</dt>
            <dd>{d.id}</dd>
            <dt>Job</dt>
            <dd>{d.job}</dd>
            <dt>Trigger</dt>
            <dd>{describeTrigger(d.trigger as never)}</dd>
            <dt>Next fire</dt>
            <dd>
              <Time iso={d.state.nextFireAt ?? d.state.nextFireOnceResumedAt} />
            </dd>
            <dt>Last success</dt>
            <dd>
              <Time iso={d.state.lastSuccessAt} />
            </dd>
            <dt>Policies</dt>
            <dd>
              misfire {d.misfire.policy}, overlap {d.overlap}, {d.retry.attempts} attempts
              {d.timeoutMs ? `, timeout ${d.timeoutMs} ms` : ""}
              {d.marketHoursOnly ? `, market hours only (${d.calendar})` : ""}
              {d.requiresApproval ? ", orders need approval" : ""}
            </dd>
            <dt>Tags</dt>
            <dd>{d.tags.length ? d.tags.join(", ") : "—"}</dd>
            {d.data !== null ? (
              <>
                <dt>Data</dt>
                <dd>
                  <Json value={d.data} />
                </dd>
              </>
            ) : null}
            <dt>Revision</dt>
            <dd>
              {d.revision}, updated <Time iso={d.updatedAt} />
            </dd>
          </dl>
          <h2>Coming fires</h2>
          <SchedulePreview id={d.id} count={20} />
          <h2>Recent executions</h2>
          <ExecutionTable filters={{ scheduleId: d.id }} />
        </>
      ) : null}
    </section>
  );
}
