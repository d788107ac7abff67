/** The schedule endpoints against a real Express host: CRUD, filters and pages, policies, fires. */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHost, type TestHost } from "./harness.js";

type Schedule = {
  id: string;
  revision: number;
  paused: boolean;
  tags: string[];
  trigger: Record<string, unknown>;
  state: {
    nextFireAt: string | null;
    nextFireOnceResumedAt: string | null;
    counters: { fires: number; succeeded: number };
  };
};
type Page<T> = { items: T[]; nextCursor: string | null };
type Problem = { code: string; field?: string; status: number; detail: string; errors?: { field: string }[] };

let host: TestHost;
beforeEach(async () => {
  host = await startHost();
});
afterEach(async () => {
  await host.close();
});

const create = (body: Record<string, unknown>) => host.request<Schedule>("POST", "/schedules", { body });

describe("schedules", () => {
  it("creates a schedule, answers 201 with its next fire, and the audit names the token", async () => {
    const res = await create({
      id: "morning",
      job: "noop",
      trigger: { cron: "0 9 * * 1-5", timezone: "America/New_York" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe("schedules/morning");
    expect(res.body.id).toBe("morning");
    // 2026-01-05 14:30Z is 09:30 New York: the next 09:00 is Tuesday's.
    expect(res.body.state.nextFireAt).toBe("2026-01-06T14:00:00.000Z");
    const audit = await host.request<Page<{ actor: string; action: string }>>(
      "GET",
      "/audit?action=schedule.create",
    );
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: "ada", action: "schedule.create" })]);
  });

  it("rejects bad input with the SDK's code and field", async () => {
    const cron = await host.request<Problem>("POST", "/schedules", {
      body: { job: "noop", trigger: { cron: "61 * * * *" } },
    });
    expect(cron.status).toBe(400);
    expect(cron.headers.get("content-type")).toContain("application/problem+json");
    expect(cron.body).toMatchObject({ code: "INVALID_CRON", field: "trigger.expression" });
    const zone = await host.request<Problem>("POST", "/schedules", {
      body: { job: "noop", trigger: { cron: "0 9 * * *", timezone: "Mars/Olympus" } },
    });
    expect(zone.body).toMatchObject({ code: "UNKNOWN_TIMEZONE", field: "trigger.timezone" });
    const job = await host.request<Problem>("POST", "/schedules", {
      body: { job: "nope", trigger: { every: "1m" } },
    });
    expect(job.body).toMatchObject({ status: 400, code: "UNKNOWN_JOB", field: "job" });
    const extra = await host.request<Problem>("POST", "/schedules", {
      body: { job: "noop", trigger: { every: "1m" }, colour: "red" },
    });
    expect(extra.body).toMatchObject({ code: "VALIDATION", field: "colour" });
    const taken = await create({ id: "x", job: "noop", trigger: { every: "1m" } });
    expect(taken.status).toBe(201);
    const again = await host.request<Problem>("POST", "/schedules", {
      body: { id: "x", job: "noop", trigger: { every: "1m" } },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("SCHEDULE_EXISTS");
  });

  it("lists with filters and cursor pages", async () => {
    for (let i = 0; i < 7; i++) {
      await create({
        id: `s${i}`,
        job: i % 2 ? "noop" : "fail",
        tags: i < 3 ? ["eod"] : ["intraday"],
        trigger: { every: "1h" },
      });
    }
    await host.request("POST", "/schedules/s5/pause");
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page<Schedule> } = await host.request(
        "GET",
        `/schedules?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((s) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
    const tagged = await host.request<Page<Schedule>>("GET", "/schedules?tag=eod");
    expect(tagged.body.items.map((s) => s.id)).toEqual(["s0", "s1", "s2"]);
    const job = await host.request<Page<Schedule>>("GET", "/schedules?job=noop&paused=false");
    expect(job.body.items.map((s) => s.id)).toEqual(["s1", "s3"]);
    const paused = await host.request<Page<Schedule>>("GET", "/schedules?paused=true");
    expect(paused.body.items.map((s) => s.id)).toEqual(["s5"]);
    const bad = await host.request<Problem>("GET", "/schedules?paused=maybe");
    expect(bad.body).toMatchObject({ status: 400, field: "paused" });
    const cursorBad = await host.request<Problem>("GET", "/schedules?cursor=%%%");
    expect(cursorBad.body).toMatchObject({ status: 400, field: "cursor" });
  });

  it("updates with an expected revision and refuses a stale one", async () => {
    await create({ id: "u", job: "noop", trigger: { every: "1h" } });
    const ok = await host.request<Schedule>("PATCH", "/schedules/u", {
      body: { expectedRevision: 1, tags: ["x"] },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ revision: 2, tags: ["x"] });
    const stale = await host.request<Problem>("PATCH", "/schedules/u", {
      body: { expectedRevision: 1, tags: ["y"] },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: "REVISION_CONFLICT", field: "revision" });
    const id = await host.request<Problem>("PATCH", "/schedules/u", { body: { id: "other" } });
    expect(id.body).toMatchObject({ status: 400, field: "id" });
    const missing = await host.request<Problem>("PATCH", "/schedules/nope", { body: { tags: [] } });
    expect(missing.body).toMatchObject({ status: 404, code: "SCHEDULE_NOT_FOUND" });
    const current = await host.request<Schedule>("GET", "/schedules/u");
    expect(current.body).toMatchObject({ revision: 2, tags: ["x"] });
  });

  it("pauses (with the next fire once resumed), resumes and deletes", async () => {
    await create({ id: "p", job: "noop", trigger: { cron: "0 15 * * *", timezone: "UTC" } });
    const paused = await host.request<Schedule>("POST", "/schedules/p/pause");
    expect(paused.body.paused).toBe(true);
    expect(paused.body.state.nextFireAt).toBeNull();
    expect(paused.body.state.nextFireOnceResumedAt).toBe("2026-01-05T15:00:00.000Z");
    const preview = await host.request<{ fires: { skip: string | null }[] }>(
      "GET",
      "/schedules/p/preview?count=2",
    );
    expect(preview.body.fires.map((f) => f.skip)).toEqual(["paused", "paused"]);
    const resumed = await host.request<Schedule>("POST", "/schedules/p/resume");
    expect(resumed.body.state).toMatchObject({
      nextFireAt: "2026-01-05T15:00:00.000Z",
      nextFireOnceResumedAt: null,
    });
    const del = await host.request("DELETE", "/schedules/p");
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect((await host.request("GET", "/schedules/p")).status).toBe(404);
  });

  it("triggers a manual fire (202, then recorded with the caller) and counts it", async () => {
    await create({ id: "t", job: "noop", trigger: { cron: "0 0 1 1 *", timezone: "UTC" } });
    const res = await host.request<{ kind: string; actor: string; status: string }>(
      "POST",
      "/schedules/t/trigger",
      { as: "operator" },
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ kind: "manual", actor: "otto" });
    const waited = await host.request<{ status: string }>("POST", "/schedules/t/trigger", {
      as: "operator",
      body: { wait: true },
    });
    expect(waited.status).toBe(200);
    expect(waited.body.status).toBe("succeeded");
    const s = await host.request<Schedule>("GET", "/schedules/t");
    expect(s.body.state.counters.fires).toBe(2);
    expect(s.body.state.counters.succeeded).toBe(2);
  });

  it("backfills a past window once; a second backfill finds the fires claimed", async () => {
    await create({ id: "b", job: "noop", trigger: { every: "1h", anchor: "2026-01-05T00:00:00Z" } });
    const window = { from: "2026-01-05T10:00:00Z", to: "2026-01-05T12:00:00Z" };
    const first = await host.request<{ fires: number; ran: number; executions: { kind: string }[] }>(
      "POST",
      "/schedules/b/backfill",
      { as: "operator", body: window },
    );
    expect(first.body).toMatchObject({ fires: 3, ran: 3 });
    expect(first.body.executions.every((e) => e.kind === "backfill")).toBe(true);
    const second = await host.request<{ ran: number; alreadyClaimed: number }>(
      "POST",
      "/schedules/b/backfill",
      {
        as: "operator",
        body: window,
      },
    );
    expect(second.body).toMatchObject({ ran: 0, alreadyClaimed: 3 });
    const future = await host.request<Problem>("POST", "/schedules/b/backfill", {
      as: "operator",
      body: { from: "2026-01-05T10:00:00Z", to: "2027-01-01T00:00:00Z" },
    });
    expect(future.body).toMatchObject({ status: 400, field: "to" });
  });

  it("previews coming fires with the skipped ones and why (holiday, weekend, outside hours)", async () => {
    // Every day at 15:00 New York, market hours only, from Wednesday 2026-04-01: Good Friday is
    // 2026-04-03, then a weekend; 15:00 on a regular day is inside the session.
    await create({
      id: "mh",
      job: "noop",
      marketHoursOnly: true,
      trigger: { cron: "0 15 * * *", timezone: "America/New_York" },
    });
    const res = await host.request<{
      fires: { at: string; local: string; skip: string | null; skipDetail: string | null }[];
    }>("GET", "/schedules/mh/preview?count=5&from=2026-04-01T00:00:00Z");
    expect(res.body.fires.map((f) => [f.local.slice(0, 10), f.skip, f.skipDetail])).toEqual([
      ["2026-04-01", null, null],
      ["2026-04-02", null, null],
      ["2026-04-03", "market_closed", "Good Friday"],
      ["2026-04-04", "market_closed", "weekend"],
      ["2026-04-05", "market_closed", "weekend"],
    ]);
    // An unsaved schedule at 14:00 New York on the day after Thanksgiving (early close at 13:00).
    const unsaved = await host.request<{ fires: { skip: string | null; skipDetail: string | null }[] }>(
      "POST",
      "/preview",
      {
        as: "viewer",
        body: {
          schedule: {
            job: "noop",
            marketHoursOnly: true,
            trigger: { cron: "0 14 27 11 *", timezone: "America/New_York" },
          },
          count: 1,
        },
      },
    );
    expect(unsaved.body.fires[0]?.skip).toBe("market_closed");
    expect(unsaved.body.fires[0]?.skipDetail).toMatch(/^early close at 13:00/);
  });

  it("fires on time as the clock moves, and the status shows it", async () => {
    await create({ id: "tick", job: "noop", trigger: { every: "1m" } });
    await host.clock.advance(60_000);
    await host.clock.flush();
    const status = await host.request<{ schedules: { id: string; lastStatus: string | null }[] }>(
      "GET",
      "/status",
      { as: "viewer" },
    );
    expect(status.body.schedules.find((s) => s.id === "tick")?.lastStatus).toBe("succeeded");
    const execs = await host.request<Page<{ scheduleId: string; kind: string }>>(
      "GET",
      "/executions?scheduleId=tick&kind=scheduled",
    );
    expect(execs.body.items.length).toBeGreaterThanOrEqual(1);
  });
});
