/** Creating a schedule, with a live preview of its coming fires (and the skipped ones). */

import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, type PreviewFire, unwrap } from "../api.js";
import { ErrorText, PreviewStrip } from "../components/bits.js";
import { useLoad } from "../components/use-load.js";
import { go } from "../router.js";
import { say } from "../state.js";

type Kind = "cron" | "interval" | "once" | "market";

/** The create form. */
export function ScheduleForm({ onDone }: { onDone(): void }) {
  const catalog = useLoad(() => api.GET("/catalog").then(unwrap), []);
  const f = {
    id: useSignal(""),
    name: useSignal(""),
    job: useSignal(""),
    kind: useSignal<Kind>("cron"),
    cron: useSignal("0 9 * * 1-5"),
    timezone: useSignal("America/New_York"),
    every: useSignal("15m"),
    at: useSignal(""),
    calendar: useSignal("XNYS"),
    event: useSignal<"open" | "close">("open"),
    offset: useSignal("10"),
    tags: useSignal(""),
    requiresApproval: useSignal(false),
    marketHoursOnly: useSignal(false),
  };
  const error = useSignal<string | null>(null);
  const preview = useSignal<PreviewFire[]>([]);
  const previewError = useSignal<string | null>(null);
  const jobs = catalog.data?.jobs ?? [];
  if (!f.job.value && jobs[0]) f.job.value = jobs[0];

  const trigger = () => {
    switch (f.kind.value) {
      case "cron":
        return { type: "cron" as const, expression: f.cron.value, timezone: f.timezone.value };
      case "interval":
        return { type: "interval" as const, every: f.every.value };
      case "once":
        return { type: "once" as const, at: f.at.value };
      default:
        return {
          type: "market" as const,
          calendar: f.calendar.value,
          event: f.event.value,
          offsetMinutes: Number(f.offset.value),
        };
    }
  };
  const input = () => ({
    ...(f.id.value.trim() ? { id: f.id.value.trim() } : {}),
    ...(f.name.value.trim() ? { name: f.name.value.trim() } : {}),
    job: f.job.value,
    trigger: trigger(),
    tags: f.tags.value
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    requiresApproval: f.requiresApproval.value,
    marketHoursOnly: f.marketHoursOnly.value,
  });

  const key = JSON.stringify(input());
  useEffect(() => {
    if (!f.job.value) return;
    const t = window.setTimeout(async () => {
      try {
        const p = await api.POST("/preview", { body: { schedule: input(), count: 8 } }).then(unwrap);
        preview.value = p.fires;
        previewError.value = null;
      } catch (e) {
        preview.value = [];
        previewError.value = (e as Error).message;
      }
    }, 250);
    return () => window.clearTimeout(t);
  }, [key]);

  const submit = async (event: Event) => {
    event.preventDefault();
    error.value = null;
    try {
      const created = await api.POST("/schedules", { body: input() }).then(unwrap);
      say(`Schedule ${created.id} created.`);
      onDone();
      go(`/schedules/${encodeURIComponent(created.id)}`);
    } catch (e) {
      const p = (e as { problem?: { field?: string } }).problem;
      error.value = `${(e as Error).message}${p?.field ? ` (field: ${p.field})` : ""}`;
    }
  };
  const text = (id: string, label: string, s: { value: string }, extra: Record<string, unknown> = {}) => (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        value={s.value}
        onInput={(e) => {
          s.value = (e.target as HTMLInputElement).value;
        }}
        {...extra}
      />
    </div>
  );
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New schedule</h2>
      <div class="grid">
        {text("f-id", "Id (optional)", f.id, { placeholder: "morning-routine" })}
        {text("f-name", "Name (optional)", f.name)}
        <div class="field">
          <label for="f-job">Job</label>
          <select
            id="f-job"
            value={f.job.value}
            onChange={(e) => {
              f.job.value = (e.target as HTMLSelectElement).value;
            }}
          >
            {jobs.map((j) => (
              <option key={j} value={j}>
                {j}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-kind">Trigger</label>
          <select
            id="f-kind"
            value={f.kind.value}
            onChange={(e) => {
              f.kind.value = (e.target as HTMLSelectElement).value as Kind;
            }}
          >
            <option value="cron">Cron in a time zone</option>
            <option value="interval">Every interval</option>
            <option value="once">Once</option>
            <option value="market">Relative to the market open or close</option>
          </select>
        </div>
        {f.kind.value === "cron" ? (
          <>
            {text("f-cron", "Cron expression", f.cron)}
            {text("f-tz", "Time zone (IANA)", f.timezone)}
          </>
        ) : null}
        {f.kind.value === "interval" ? text("f-every", "Every (e.g. 30s, 15m, 1h)", f.every) : null}
        {f.kind.value === "once"
          ? text("f-at", "At (ISO 8601 with zone)", f.at, { placeholder: "2026-01-05T14:30:00Z" })
          : null}
        {f.kind.value === "market" ? (
          <>
            <div class="field">
              <label for="f-cal">Calendar</label>
              <select
                id="f-cal"
                value={f.calendar.value}
                onChange={(e) => {
                  f.calendar.value = (e.target as HTMLSelectElement).value;
                }}
              >
                {(catalog.data?.calendars ?? []).map((c) => (
                  <option key={c.code} value={c.code}>
                    {c.code} — {c.name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="f-event">Event</label>
              <select
                id="f-event"
                value={f.event.value}
                onChange={(e) => {
                  f.event.value = (e.target as HTMLSelectElement).value as "open" | "close";
                }}
              >
                <option value="open">open</option>
                <option value="close">close</option>
              </select>
            </div>
            {text("f-offset", "Minutes after (negative: before)", f.offset, { type: "number" })}
          </>
        ) : null}
        {text("f-tags", "Tags (comma-separated)", f.tags)}
      </div>
      <label class="check">
        <input
          type="checkbox"
          checked={f.marketHoursOnly.value}
          onChange={(e) => {
            f.marketHoursOnly.value = (e.target as HTMLInputElement).checked;
          }}
        />
        Market hours only (skip fires outside a session of XNYS)
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={f.requiresApproval.value}
          onChange={(e) => {
            f.requiresApproval.value = (e.target as HTMLInputElement).checked;
          }}
        />
        Orders wait for a human approval
      </label>
      <h3>Coming fires</h3>
      <ErrorText error={previewError.value} />
      <PreviewStrip fires={preview.value} label="Coming fires of the new schedule" />
      <ErrorText error={error.value} />
      <div class="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" class="primary">
          Create schedule
        </button>
      </div>
    </form>
  );
}
