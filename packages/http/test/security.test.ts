/**
 * Security: no default credentials, token checks, roles against every endpoint, dashboard
 * sessions with CSRF, Origin checks, rate limits, body rules, headers, and nothing secret in
 * logs or answers.
 */

import { type Logger, MemoryStorage, Scheduler, ValidationError } from "@tradecron/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRouter } from "../src/index.js";
import { AUTH, startHost, type TestHost, TOKENS } from "./harness.js";
import { allSpecs, fillPath } from "./routes-sample.js";

type Problem = { code: string; status: number; detail: string; field?: string };

let host: TestHost | null = null;
afterEach(async () => {
  await host?.close();
  host = null;
  vi.restoreAllMocks();
});

/** A logger that keeps every line it is given, as text. */
function capturingLogger(lines: string[]): Logger {
  const log = (level: string) => (a: unknown, b?: unknown) => {
    lines.push(`${level} ${JSON.stringify(a)} ${b === undefined ? "" : String(b)}`);
  };
  const logger: Logger = {
    trace: log("trace"),
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    fatal: log("fatal"),
    child: () => logger,
  };
  return logger;
}

describe("no default credentials", () => {
  it("refuses to build a router without auth unless the host opts out explicitly", () => {
    const scheduler = new Scheduler({ storage: new MemoryStorage() });
    expect(() => createRouter(scheduler, {})).toThrow(ValidationError);
    try {
      createRouter(scheduler, {});
    } catch (error) {
      expect((error as ValidationError).field).toBe("auth");
    }
    expect(() => createRouter(scheduler, { dangerouslyDisableAuth: false })).toThrow(/no auth configured/);
    expect(() => createRouter(scheduler, { auth: { tokens: [] } })).toThrow(/at least one token/);
    expect(() => createRouter(scheduler, { auth: AUTH, dangerouslyDisableAuth: true })).toThrow(
      /cannot be combined/,
    );
  });

  it("rejects weak or duplicate tokens without quoting them", () => {
    const scheduler = new Scheduler({ storage: new MemoryStorage() });
    const secret = "Zq9xShort";
    for (const tokens of [
      [{ name: "a", role: "admin" as const, token: secret }],
      [
        { name: "a", role: "admin" as const, token: `${secret}-long-enough-1` },
        { name: "b", role: "viewer" as const, token: `${secret}-long-enough-1` },
      ],
      [{ name: "a", role: "root" as never, token: `${secret}-long-enough-2` }],
    ]) {
      let caught: unknown = null;
      try {
        createRouter(scheduler, { auth: { tokens } });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      const e = caught as ValidationError;
      const everything = `${e.message} ${JSON.stringify(e)} ${JSON.stringify(e.issues)} ${String(e.cause ?? "")}`;
      expect(everything).not.toContain(secret);
    }
  });

  it("serves without auth only when asked to, as `anonymous`, and warns", async () => {
    const lines: string[] = [];
    host = await startHost({
      router: { auth: undefined, dangerouslyDisableAuth: true, logger: capturingLogger(lines) },
    });
    expect(lines.some((l) => l.startsWith("warn") && l.includes("authentication is OFF"))).toBe(true);
    const res = await host.request<{ actor: string }>("POST", "/schedules", {
      as: null,
      body: { id: "a", job: "noop", trigger: { every: "1h" } },
    });
    expect(res.status).toBe(201);
    const audit = await host.request<{ items: { actor: string }[] }>("GET", "/audit", { as: null });
    expect(audit.body.items[0]?.actor).toBe("anonymous");
    // Even without auth, a browser on another site cannot drive it.
    const cross = await host.request<Problem>("POST", "/controls/pause-all", {
      as: null,
      headers: { origin: "https://evil.example" },
    });
    expect(cross.status).toBe(403);
    expect(cross.body.code).toBe("CSRF_REJECTED");
    expect(host.scheduler.pausedAll).toBe(false);
  });
});

describe("bearer tokens", () => {
  it("answers 401 with WWW-Authenticate for missing, malformed and unknown tokens", async () => {
    host = await startHost();
    const cases: Record<string, string>[] = [
      {},
      { authorization: "Bearer" },
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: `Bearer ${TOKENS.admin}x` },
      { authorization: `Bearer ${"a".repeat(5000)}` },
      { authorization: `bearer ${TOKENS.admin} extra` },
    ];
    for (const headers of cases) {
      const res = await host.request<Problem>("GET", "/status", { as: null, headers });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("UNAUTHORIZED");
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
    expect(
      (
        await host.request("GET", "/status", {
          as: null,
          headers: { authorization: `bearer   ${TOKENS.viewer}` },
        })
      ).status,
    ).toBe(200);
  });

  it("accepts a token given as its SHA-256 digest", async () => {
    const { createHash } = await import("node:crypto");
    const digest = createHash("sha256").update("digest-only-token-0123456789").digest("hex");
    host = await startHost({
      router: { auth: { tokens: [{ name: "ci", role: "viewer", sha256: digest }] } },
    });
    expect(
      (await host.request("GET", "/status", { as: { token: "digest-only-token-0123456789" } })).status,
    ).toBe(200);
    expect(
      (await host.request("GET", "/status", { as: { token: "digest-only-token-0123456780" } })).status,
    ).toBe(401);
  });
});

describe("roles against every endpoint", () => {
  const ROLE_RANK = { viewer: 0, operator: 1, admin: 2 } as const;

  it("lets each role do exactly what it may, on every route of the table", async () => {
    host = await startHost({
      router: { rateLimits: { mutationsPerMinute: 10_000, triggersPerMinute: 10_000 } },
    });
    const h = host;
    await h.request("POST", "/schedules", {
      body: { id: "does-not-exist-yet", job: "noop", trigger: { every: "1h" } },
    });
    const specs = allSpecs();
    expect(specs.length).toBeGreaterThan(35);
    const callers: { as: "viewer" | "operator" | "admin" | null | { token: string }; rank: number }[] = [
      { as: null, rank: -1 },
      { as: { token: "not-a-token-0123456789abcdef" }, rank: -1 },
      { as: "viewer", rank: ROLE_RANK.viewer },
      { as: "operator", rank: ROLE_RANK.operator },
      { as: "admin", rank: ROLE_RANK.admin },
    ];
    let checked = 0;
    for (const spec of specs) {
      for (const caller of callers) {
        const path = fillPath(spec);
        let status: number;
        let code: string | undefined;
        if (spec.id === "streamEvents") {
          const ac = new AbortController();
          const headers: Record<string, string> = {};
          if (caller.as !== null)
            headers.authorization = `Bearer ${typeof caller.as === "string" ? TOKENS[caller.as] : caller.as.token}`;
          const res = await fetch(`${h.base}${path}`, { headers, signal: ac.signal });
          status = res.status;
          if (status !== 200) code = ((await res.json()) as Problem).code;
          ac.abort();
        } else {
          const res = await h.request<Problem>(spec.method.toUpperCase(), path, {
            as: caller.as,
            ...(spec.body ? { body: {} } : {}),
          });
          status = res.status;
          code = res.body?.code;
        }
        const needed = spec.role === "public" ? -2 : ROLE_RANK[spec.role];
        const label = `${spec.method} ${spec.path} as ${JSON.stringify(caller.as)}`;
        if (caller.rank < needed) {
          expect([401, 403], label).toContain(status);
          expect(code, label).toBe(caller.rank === -1 ? "UNAUTHORIZED" : "FORBIDDEN");
        } else {
          expect(
            code === "UNAUTHORIZED" || code === "FORBIDDEN" || code === "CSRF_REJECTED",
            `${label}: ${status} ${code}`,
          ).toBe(false);
          expect(status, label).toBeLessThan(500);
        }
        checked++;
      }
    }
    expect(checked).toBe(specs.length * callers.length);
  }, 30_000);
});

/** Signs in with a token; returns the cookie header to send back and the CSRF token. */
async function signIn(h: TestHost, token: string) {
  const res = await h.request<{ csrfToken: string; role: string; name: string; expiresAt: string }>(
    "POST",
    "/auth/session",
    {
      as: null,
      body: { token },
    },
  );
  const setCookie = res.headers.getSetCookie();
  return { res, setCookie, cookie: setCookie[0]?.split(";")[0] ?? "", csrf: res.body.csrfToken };
}

describe("dashboard sessions", () => {
  it("exchanges a token for an HttpOnly, SameSite=Strict cookie scoped to the mount point", async () => {
    host = await startHost();
    const { res, setCookie, cookie } = await signIn(host, TOKENS.operator);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "otto", role: "operator" });
    expect(setCookie).toHaveLength(1);
    const attributes = (setCookie[0] ?? "").split(";").map((s) => s.trim().toLowerCase());
    expect(attributes).toContain("httponly");
    expect(attributes).toContain("samesite=strict");
    expect(attributes).toContain("path=/scheduler");
    expect(cookie).toMatch(/^tradecron_session=[A-Za-z0-9_-]{43}$/);
    expect(cookie).not.toContain(TOKENS.operator);
    const me = await host.request<{ name: string; via: string }>("GET", "/auth/session", {
      as: null,
      headers: { cookie },
    });
    expect(me.body).toMatchObject({ name: "otto", via: "session" });
    const wrong = await host.request<Problem>("POST", "/auth/session", {
      as: null,
      body: { token: "wrong-token-0123456789" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain("wrong-token-0123456789");
  });

  it("requires the CSRF token on every mutation made with the cookie", async () => {
    host = await startHost();
    const { cookie, csrf } = await signIn(host, TOKENS.operator);
    const without = await host.request<Problem>("POST", "/controls/pause-all", {
      as: null,
      headers: { cookie },
      body: {},
    });
    expect(without.status).toBe(403);
    expect(without.body.code).toBe("CSRF_REJECTED");
    const wrong = await host.request<Problem>("POST", "/controls/pause-all", {
      as: null,
      headers: { cookie, "x-csrf-token": `${csrf.slice(0, -1)}x` },
      body: {},
    });
    expect(wrong.status).toBe(403);
    expect(host.scheduler.pausedAll).toBe(false);
    const right = await host.request("POST", "/controls/pause-all", {
      as: null,
      headers: { cookie, "x-csrf-token": csrf },
      body: {},
    });
    expect(right.status).toBe(200);
    expect(host.scheduler.pausedAll).toBe(true);
    const sameOrigin = await host.request("POST", "/controls/resume-all", {
      as: null,
      headers: { cookie, "x-csrf-token": csrf, origin: host.url },
      body: {},
    });
    expect(sameOrigin.status).toBe(200);
    const otherOrigin = await host.request<Problem>("POST", "/controls/pause-all", {
      as: null,
      headers: { cookie, "x-csrf-token": csrf, origin: "https://evil.example" },
      body: {},
    });
    expect(otherOrigin.body.code).toBe("CSRF_REJECTED");
    expect(host.scheduler.pausedAll).toBe(false);
  });

  it("keeps the token's role, expires, and signs out", async () => {
    host = await startHost();
    const viewer = await signIn(host, TOKENS.viewer);
    const forbidden = await host.request<Problem>("POST", "/controls/pause-all", {
      as: null,
      headers: { cookie: viewer.cookie, "x-csrf-token": viewer.csrf },
      body: {},
    });
    expect(forbidden.body.code).toBe("FORBIDDEN");
    const out = await host.request("DELETE", "/auth/session", {
      as: null,
      headers: { cookie: viewer.cookie, "x-csrf-token": viewer.csrf },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()[0]).toMatch(/tradecron_session=;/);
    expect(
      (await host.request("GET", "/status", { as: null, headers: { cookie: viewer.cookie } })).status,
    ).toBe(401);
    const admin = await signIn(host, TOKENS.admin);
    expect(
      (await host.request("GET", "/status", { as: null, headers: { cookie: admin.cookie } })).status,
    ).toBe(200);
    await host.clock.advance(8 * 3_600_000 + 1);
    expect(
      (await host.request("GET", "/status", { as: null, headers: { cookie: admin.cookie } })).status,
    ).toBe(401);
  });
});

describe("rate limits", () => {
  it("limits mutations per token, and manual runs more tightly", async () => {
    host = await startHost({ router: { rateLimits: { mutationsPerMinute: 4, triggersPerMinute: 2 } } });
    await host.request("POST", "/schedules", { body: { id: "r", job: "noop", trigger: { every: "1h" } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await host.request("POST", "/schedules/r/trigger", { as: "operator" })).status);
    expect(statuses).toEqual([202, 202, 429]);
    const limited = await host.request<Problem>("POST", "/schedules/r/trigger", { as: "operator" });
    expect(limited.body.code).toBe("RATE_LIMITED");
    expect(limited.headers.get("retry-after")).not.toBeNull();
    // Another token has its own budget; reads are not limited.
    expect((await host.request("POST", "/schedules/r/pause", { as: "admin" })).status).toBe(200);
    for (let i = 0; i < 10; i++)
      expect((await host.request("GET", "/status", { as: "operator" })).status).toBe(200);
    // The operator's mutation budget (4) is spent by 4 attempts, limited ones included.
    expect((await host.request<Problem>("POST", "/schedules/r/resume", { as: "operator" })).body.code).toBe(
      "RATE_LIMITED",
    );
  });

  it("limits sign-in attempts per client address", async () => {
    host = await startHost({ router: { rateLimits: { signInsPerMinute: 3 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (
          await host.request("POST", "/auth/session", {
            as: null,
            body: { token: `guess-${i}-0123456789abcdef` },
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe("bodies and headers", () => {
  it("refuses oversized, non-JSON, malformed and too-deep bodies, changing nothing", async () => {
    host = await startHost({ router: { bodyLimit: 2048 } });
    const big = await host.request<Problem>("POST", "/schedules", {
      rawBody: JSON.stringify({ job: "noop", trigger: { every: "1h" }, description: "x".repeat(5000) }),
      headers: { "content-type": "application/json" },
    });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe("PAYLOAD_TOO_LARGE");
    const form = await host.request<Problem>("POST", "/schedules", {
      rawBody: "job=noop",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    const text = await host.request<Problem>("POST", "/controls/pause-all", {
      rawBody: "{}",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const broken = await host.request<Problem>("POST", "/schedules", {
      rawBody: '{"job": ',
      headers: { "content-type": "application/json" },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe("MALFORMED_JSON");
    const scalar = await host.request<Problem>("POST", "/controls/pause-all", {
      rawBody: '"yes"',
      headers: { "content-type": "application/json" },
    });
    expect(scalar.status).toBe(400);
    const deep = await host.request<Problem>("POST", "/schedules", {
      rawBody: `{"job":"noop","trigger":{"every":"1h"},"data":${"[".repeat(200)}${"]".repeat(200)}}`,
      headers: { "content-type": "application/json" },
    });
    expect(deep.status).toBe(400);
    expect(host.scheduler.pausedAll).toBe(false);
    expect(await host.scheduler.listSchedules()).toEqual([]);
  });

  it("sets security headers with a strict Content-Security-Policy, and leaves the host's routes alone", async () => {
    host = await startHost();
    const res = await host.request("GET", "/status", { as: "viewer" });
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const own = await fetch(`${host.url}/host-route`);
    expect(await own.json()).toEqual({ mine: true });
    expect(own.headers.get("content-security-policy")).toBeNull();
  });

  it("answers unknown paths with 404 and wrong methods with 405 and Allow, as problems", async () => {
    host = await startHost();
    const missing = await host.request<Problem>("GET", "/nope", { as: "viewer" });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("ROUTE_NOT_FOUND");
    const method = await host.request<Problem>("PUT", "/schedules", { as: "admin", body: {} });
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toBe("GET, HEAD, POST");
  });
});

describe("nothing secret in logs or answers", () => {
  it("never writes a token, a session id or a CSRF token to the logs or the console", async () => {
    const lines: string[] = [];
    const consoleLines: string[] = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map(String).join(" "));
      });
    }
    host = await startHost({
      router: { logger: capturingLogger(lines), rateLimits: { signInsPerMinute: 2 } },
    });
    const session = await signIn(host, TOKENS.admin);
    await host.request("GET", "/status", { as: null, headers: { cookie: session.cookie } });
    await host.request("POST", "/controls/pause-all", {
      as: null,
      headers: { cookie: session.cookie },
      body: {},
    });
    for (const token of Object.values(TOKENS)) {
      await host.request("GET", "/status", { as: { token: `${token}-wrong` } });
      await host.request("POST", "/auth/session", { as: null, body: { token: `${token}-wrong` } });
    }
    // A failure inside a handler (5xx) is logged: make storage fail once.
    const original = host.scheduler.storage.listExecutions.bind(host.scheduler.storage);
    host.scheduler.storage.listExecutions = async () => {
      throw new Error("driver failed: connection reset");
    };
    const failed = await host.request<Problem>("GET", "/executions", { as: "viewer" });
    host.scheduler.storage.listExecutions = original;
    expect(failed.status).toBe(500);
    expect(failed.body.detail).toBe("internal error");
    expect(failed.text).not.toContain(TOKENS.admin);
    const everything = [...lines, ...consoleLines].join("\n");
    expect(lines.some((l) => l.startsWith("error"))).toBe(true);
    for (const secret of [...Object.values(TOKENS), session.csrf, session.cookie.split("=")[1] as string]) {
      expect(everything).not.toContain(secret);
    }
  });
});
