/**
 * The client of a running instance's REST API: openapi-fetch typed by the types @tradecron/http
 * generates from its own OpenAPI document (so a renamed field breaks the build, not a user), and
 * the mapping of its RFC 9457 problem answers back to the SDK's error classes, so a remote command
 * ends with the same exit code as the same command in direct mode.
 */

import {
  ConflictError,
  type ErrorCode,
  NotFoundError,
  StateError,
  TradecronError,
  ValidationError,
} from "@tradecron/core";
import type { ApiComponents, ApiPaths } from "@tradecron/http";
import createClient, { type Client } from "openapi-fetch";
import { CliError, EXIT } from "../errors.js";

type Problem = ApiComponents["schemas"]["Problem"];

/** A request that takes longer than this is given up (the instance hangs or the network does). */
const REQUEST_TIMEOUT_MS = 30_000;

/** 409 codes that mean "someone else wrote first" rather than "not in this state". */
const CONFLICTS = new Set([
  "SCHEDULE_EXISTS",
  "JOB_EXISTS",
  "REVISION_CONFLICT",
  "FIRE_ALREADY_CLAIMED",
  "CONFLICT",
]);

/** HTTP codes are not in core's ErrorCode union (the same cast @tradecron/http's HttpError makes). */
const code = (c: string) => c as ErrorCode;

/**
 * The error a problem answer stands for: 400 a ValidationError (every issue), 401/403 exit 6,
 * 404 a NotFoundError (an unknown route: exit 3, the URL is wrong), 409 a StateError or
 * ConflictError, 429 exit 5 with the wait, 502-504 exit 3, other 5xx exit 70.
 */
export function errorFromProblem(
  status: number,
  body: unknown,
  where: string,
  retryAfter: string | null = null,
): TradecronError {
  const p = (body && typeof body === "object" ? body : {}) as Partial<Problem>;
  const c = typeof p.code === "string" ? p.code : `HTTP_${status}`;
  const detail = typeof p.detail === "string" ? p.detail : `HTTP ${status}`;
  const field = typeof p.field === "string" ? { field: p.field } : {};
  if (status === 400 || status === 413 || status === 415) {
    const issues =
      Array.isArray(p.errors) && p.errors.length > 0
        ? p.errors
        : [{ field: p.field ?? "", message: detail, code: c }];
    return new ValidationError(
      issues.map((i) => ({ field: i.field, message: i.message, code: code(i.code) })),
      { component: where },
    );
  }
  if (status === 401)
    return new CliError(
      code(c),
      `${where} refused the credentials (${detail}): pass a token of its http.tokens with --token or TRADECRON_TOKEN`,
      EXIT.DENIED,
    );
  if (status === 403) return new CliError(code(c), `${where} refused: ${detail}`, EXIT.DENIED);
  if (status === 404 && c === "ROUTE_NOT_FOUND")
    return new CliError(
      code(c),
      `no tradecron API at ${where} (${detail}): check the URL and its base path`,
      EXIT.UNREACHABLE,
    );
  if (status === 404) return new NotFoundError(code(c), detail, field);
  if (status === 409)
    return CONFLICTS.has(c)
      ? new ConflictError(code(c), detail, field)
      : new StateError(code(c), detail, field);
  if (status === 429)
    return new CliError(
      code(c),
      `${where} rate-limited this token: ${detail}${retryAfter ? ` (retry in ${retryAfter} s)` : ""}`,
      EXIT.REFUSED,
    );
  if (status === 504 && c === "RUN_TIMEOUT") return new TradecronError(code(c), detail, field);
  if (status >= 502 && status <= 504)
    return new CliError(code(c), `${where} cannot answer right now: ${detail}`, EXIT.UNREACHABLE);
  if (status >= 500) return new CliError(code(c), `${where} failed (${status}): ${detail}`, EXIT.INTERNAL);
  return new TradecronError(code(c), detail, field);
}

/** What openapi-fetch resolves with. */
interface FetchOutcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** A typed client of one instance's API, with the token of the caller. */
export class ApiClient {
  readonly api: Client<ApiPaths>;
  private readonly closing = new AbortController();

  /**
   * @param baseUrl the API's URL with its base path (`http://127.0.0.1:8080`, `https://ops.example/scheduler`)
   * @param token the bearer token (its name is the audit actor of what the commands do)
   */
  constructor(
    readonly baseUrl: string,
    token: string | null,
  ) {
    const signal = this.closing.signal;
    this.api = createClient<ApiPaths>({
      baseUrl: baseUrl.replace(/\/+$/, ""),
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      fetch: (request: Request) =>
        fetch(
          new Request(request, {
            signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
          }),
        ),
    });
  }

  /** Resolves with the answer's body, or throws the SDK error its problem stands for. */
  async call<T>(request: Promise<FetchOutcome<T>>): Promise<T> {
    let outcome: FetchOutcome<T>;
    try {
      outcome = await request;
    } catch (error) {
      if (this.closing.signal.aborted)
        throw new CliError("CANCELLED" as ErrorCode, "interrupted", EXIT.INTERRUPTED);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(code("UNREACHABLE"), `cannot reach ${this.baseUrl}: ${why}`, EXIT.UNREACHABLE, {
        cause: error,
      });
    }
    if (outcome.response.ok) return outcome.data as T;
    throw errorFromProblem(
      outcome.response.status,
      outcome.error,
      this.baseUrl,
      outcome.response.headers.get("retry-after"),
    );
  }

  /** Aborts every request in flight. */
  close(): void {
    this.closing.abort();
  }
}
