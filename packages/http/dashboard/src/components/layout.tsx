/** The frame of every page: navigation with the pending badge, live state, the pause-all banner. */

import type { ComponentChildren } from "preact";
import { api } from "../api.js";
import { disconnectLive } from "../live.js";
import { href, route } from "../router.js";
import { lastEvent, live, notice, pending, session, signOutLocally, status } from "../state.js";
import { PauseAllButton, PauseBanner } from "./pause-all.js";

const NAV: [string, string][] = [
  ["/schedules", "Schedules"],
  ["/executions", "Executions"],
  ["/approvals", "Approvals"],
  ["/orders", "Orders"],
  ["/positions", "Positions"],
  ["/audit", "Audit log"],
  ["/health", "Health"],
];

async function signOut() {
  await api.DELETE("/auth/session", { body: {} }).catch(() => {});
  disconnectLive();
  signOutLocally();
}

/** The page frame. */
export function Layout({ children }: { children: ComponentChildren }) {
  const current = `/${route.value.parts[0] ?? "schedules"}`;
  const s = status.value;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header>
        <div class="brand">
          tradecron <span class="muted">{s ? `${s.instanceId} · ${s.state}` : ""}</span>
        </div>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={href(path)} aria-current={current === path ? "page" : undefined}>
                  {label}
                  {path === "/approvals" && pending.value > 0 ? (
                    <span class="badge" role="status" aria-label={`${pending.value} pending approvals`}>
                      {pending.value}
                    </span>
                  ) : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="header-side">
          <span
            class={`live live-${live.value}`}
            title={lastEvent.value ? `last event: ${lastEvent.value.type}` : ""}
          >
            {live.value === "connected"
              ? "● live"
              : live.value === "connecting"
                ? "○ connecting"
                : "○ offline"}
          </span>
          <PauseAllButton />
          <span class="who">
            {session.value?.name} <span class="muted">({session.value?.role})</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <PauseBanner />
      <main id="main">{children}</main>
      <div
        class={`notice ${notice.value?.kind === "error" ? "notice-error" : ""}`}
        role="status"
        aria-live="polite"
      >
        {notice.value?.text ?? ""}
      </div>
    </>
  );
}
