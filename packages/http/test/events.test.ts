/** `/events`: scheduler events as SSE with ids, Last-Event-ID resume from a bounded ring, heartbeats. */

import { afterEach, describe, expect, it } from "vitest";
import { startHost, type TestHost, TOKENS } from "./harness.js";
import { type Frame, openStream } from "./sse-client.js";

type Envelope = { id: string; type: string; at: string; data: Record<string, unknown> };

let host: TestHost;
afterEach(async () => {
  await host.close();
});

const auth = (role: keyof typeof TOKENS = "viewer") => ({ authorization: `Bearer ${TOKENS[role]}` });
const envelopes = (frames: Frame[]) =>
  frames.filter((f) => f.data).map((f) => JSON.parse(f.data as string) as Envelope);

describe("server-sent events", () => {
  it("streams the scheduler's events with ids, each data an EventEnvelope of the document", async () => {
    host = await startHost();
    const stream = await openStream(`${host.base}/events`, auth());
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    expect(stream.headers.get("cache-control")).toContain("no-transform");
    const first = await stream.next();
    expect(first.retry).toBe(3000);
    const open = await stream.next();
    expect(JSON.parse(open.data as string).type).toBe("stream:open");
    await host.request("POST", "/schedules", { body: { id: "live", job: "noop", trigger: { every: "1m" } } });
    await host.clock.advance(60_000);
    const frames = await stream.until("run:succeeded");
    const events = envelopes(frames);
    expect(events.map((e) => e.type)).toEqual([
      "schedule:created",
      "fire:claimed",
      "run:started",
      "run:succeeded",
    ]);
    const dataFrames = frames.filter((f) => f.data);
    for (const [i, f] of dataFrames.entries()) expect(f.id).toBe(events[i]?.id);
    const succeeded = events[3] as Envelope;
    expect(succeeded.data.execution).toMatchObject({
      scheduleId: "live",
      status: "succeeded",
      scheduledAt: "2026-01-05T14:31:00.000Z",
    });
    for (const e of events) host.validator.checkComponent("EventEnvelope", e);
    expect(() => host.validator.checkComponent("EventEnvelope", { id: 1 })).toThrow(/does not match/);
    stream.close();
  });

  it("resumes after Last-Event-ID with what the client missed, or tells it to reload", async () => {
    host = await startHost({ router: { events: { replay: 3 } } });
    const stream = await openStream(`${host.base}/events`, auth());
    await stream.next();
    const open = JSON.parse((await stream.next()).data as string) as Envelope;
    stream.close();
    await host.request("POST", "/schedules", { body: { id: "a", job: "noop", trigger: { every: "1h" } } });
    await host.request("POST", "/schedules/a/pause", { as: "operator" });
    const resumed = await openStream(`${host.base}/events`, { ...auth(), "last-event-id": open.id });
    await resumed.next();
    const missed = envelopes([await resumed.next(), await resumed.next()]);
    expect(missed.map((e) => e.type)).toEqual(["schedule:created", "schedule:paused"]);
    resumed.close();
    // Four more events: the ring of three no longer holds what came after `open`.
    for (const op of ["resume", "pause", "resume", "pause"])
      await host.request("POST", `/schedules/a/${op}`, { as: "operator" });
    const stale = await openStream(`${host.base}/events?lastEventId=${encodeURIComponent(open.id)}`, auth());
    await stale.next();
    expect(JSON.parse((await stale.next()).data as string).type).toBe("stream:reset");
    stale.close();
    const foreign = await openStream(`${host.base}/events`, {
      ...auth(),
      "last-event-id": "other-process-42",
    });
    await foreign.next();
    expect(JSON.parse((await foreign.next()).data as string).type).toBe("stream:reset");
    foreign.close();
  });

  it("sends heartbeat comments on the injected clock, and works with the dashboard cookie", async () => {
    host = await startHost({ router: { events: { heartbeat: "15s" } } });
    const signIn = await host.request<{ csrfToken: string }>("POST", "/auth/session", {
      as: null,
      body: { token: TOKENS.viewer },
    });
    const cookie = signIn.headers.getSetCookie()[0]?.split(";")[0] ?? "";
    const stream = await openStream(`${host.base}/events`, { cookie });
    expect(stream.status).toBe(200);
    await stream.next();
    await stream.next();
    await host.clock.advance(15_000);
    expect((await stream.next()).comment).toMatch(/^heartbeat 2026-01-05T14:30:15/);
    stream.close();
    const anonymous = await fetch(`${host.base}/events`);
    expect(anonymous.status).toBe(401);
  });

  it("caps the number of streams with 503 TOO_MANY_STREAMS", async () => {
    host = await startHost({ router: { events: { maxClients: 1 } } });
    const one = await openStream(`${host.base}/events`, auth());
    await one.next();
    const two = await host.request<{ code: string }>("GET", "/events", { as: "viewer" });
    expect(two.status).toBe(503);
    expect(two.body.code).toBe("TOO_MANY_STREAMS");
    one.close();
  });
});
