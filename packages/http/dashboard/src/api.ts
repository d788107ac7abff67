/**
 * The dashboard's API client: openapi-fetch over the types openapi-typescript generated from the
 * router's own OpenAPI document, so the dashboard speaks exactly the API the tests check. The API
 * lives one level up from the dashboard (`<mount>/ui/` → `<mount>/`); the session cookie goes
 * along by itself, the CSRF token is added to every mutation.
 */

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../../generated/api.js";

export type Schemas = components["schemas"];
export type Schedule = Schemas["Schedule"];
export type Execution = Schemas["Execution"];
export type Approval = Schemas["Approval"];
export type Order = Schemas["Order"];
export type AuditEntry = Schemas["AuditEntry"];
export type Status = Schemas["Status"];
export type Controls = Schemas["Controls"];
export type Problem = Schemas["Problem"];
export type PreviewFire = Schemas["PreviewFire"];
export type SessionInfo = Schemas["SessionInfo"];

/** The API's base URL: the folder above the dashboard's. */
export const apiBase = new URL("..", window.location.href).href.replace(/\/$/, "");

let csrfToken: string | null = null;

/** Sets the CSRF token sent with every mutation (from the sign-in answer). */
export function setCsrf(token: string | null): void {
  csrfToken = token;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== "GET" && csrfToken) request.headers.set("X-CSRF-Token", csrfToken);
    return request;
  },
};

/** The typed client. */
export const api = createClient<paths>({ baseUrl: apiBase, credentials: "same-origin" });
api.use(csrf);

/** An API failure, carrying the problem details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem ? `${problem.detail}` : `request failed (${status})`);
  }
  get code(): string | null {
    return this.problem?.code ?? null;
  }
}

/** The data of an openapi-fetch answer, or throws its problem as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    if (result.response.ok && result.data === undefined) return undefined as T;
    throw new ApiError(result.response.status, (result.error as Problem) ?? null);
  }
  return result.data;
}
