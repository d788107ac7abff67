/** Small shared pieces: status pills, times, errors, JSON blocks, the preview strip. */

import type { ComponentChildren } from "preact";
import type { PreviewFire } from "../api.js";
import { json, relative, when } from "../format.js";
import { now } from "../state.js";

const STATUS_CLASS: Record<string, string> = {
  succeeded: "ok",
  submitted: "ok",
  filled: "ok",
  approved: "ok",
  running: "info",
  claimed: "info",
  pending: "warn",
  new: "info",
  accepted: "info",
  partially_filled: "info",
  skipped: "muted",
  cancelled: "muted",
  canceled: "muted",
  expired: "muted",
  failed: "bad",
  timed_out: "bad",
  rejected: "bad",
  high: "bad",
  healthy: "ok",
  degraded: "warn",
  unhealthy: "bad",
  connected: "ok",
  disconnected: "bad",
  active: "ok",
  paused: "warn",
  disabled: "muted",
  unhandled: "warn",
  medium: "warn",
  low: "ok",
};

/** A coloured label (the colour repeats what the text says; it never carries meaning alone). */
export function Pill({ value }: { value: string | null | undefined }) {
  if (!value) return <span class="muted">—</span>;
  return <span class={`pill pill-${STATUS_CLASS[value] ?? "muted"}`}>{value.replaceAll("_", " ")}</span>;
}

/** An instant, with how far it is from now. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {when(iso)} <span class="muted">({relative(iso, now.value)})</span>
    </time>
  );
}

/** An error message in the page. */
export function ErrorText({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** JSON, readable. */
export function Json({ value }: { value: unknown }) {
  return <pre class="json">{json(value)}</pre>;
}

/** A page heading that takes focus on navigation, so screen readers announce the new page. */
export function Heading({ children }: { children: ComponentChildren }) {
  return (
    <h1 tabIndex={-1} ref={(el) => el?.focus()}>
      {children}
    </h1>
  );
}

/** The coming fires: the ones that run, and the skipped ones with why. */
export function PreviewStrip({ fires, label }: { fires: PreviewFire[]; label: string }) {
  if (fires.length === 0) return <p class="muted">No coming fires.</p>;
  return (
    <ol class="preview" aria-label={label}>
      {fires.map((f) => (
        <li key={f.at} class={f.skip ? "skip" : "run"} title={f.at}>
          <span class="preview-time">{f.local}</span>
          {f.skip ? (
            <span class="preview-why">
              skipped: {f.skip.replaceAll("_", " ")}
              {f.marketSkip && f.marketSkip !== f.skip
                ? `, and once resumed ${f.marketSkip.replaceAll("_", " ")}`
                : ""}
              {f.skipDetail ? ` — ${f.skipDetail}` : ""}
            </span>
          ) : (
            <span class="preview-why">runs</span>
          )}
        </li>
      ))}
    </ol>
  );
}
