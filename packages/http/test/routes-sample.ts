/** A sample request for every route of the table, for the role matrix and the fuzzer. */

import { jsonRoutes, streamRoutes } from "../src/api/routes.js";
import type { RouteSpec } from "../src/index.js";

/** Every route spec the router serves (the public ones depend on options; these are the defaults). */
export function allSpecs(): RouteSpec[] {
  return [
    ...jsonRoutes({ publicHealth: false, publicMetrics: false }),
    ...streamRoutes({ publicHealth: false, publicMetrics: false }),
  ];
}

/** The spec's path with every `{param}` replaced by `value`. */
export function fillPath(spec: RouteSpec, value = "does-not-exist"): string {
  return spec.path.replace(/\{[^}]+\}/g, encodeURIComponent(value));
}
