/** Hash routes (`#/schedules/abc?x=1`): the dashboard is one static page under any mount point. */

import { signal } from "@preact/signals";

/** The current route: path segments and query. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const hash = window.location.hash.replace(/^#/, "") || "/schedules";
  const [path = "", search = ""] = hash.split("?");
  return {
    parts: path.split("/").filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

export const route = signal<Route>(parse());
window.addEventListener("hashchange", () => {
  route.value = parse();
});

/** A link target for a route. */
export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}

/** Navigates to a route. */
export function go(path: string, query?: Record<string, string | undefined>): void {
  window.location.hash = href(path, query);
}
