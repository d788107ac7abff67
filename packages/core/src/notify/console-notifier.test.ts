import { describe, expect, it } from "vitest";
import { type LogFn, type Logger, silentLogger } from "../logger.js";
import { makeNotification, notifierConformance } from "../testing/notifier-suite.js";
import { ConsoleNotifier } from "./console-notifier.js";
import type { Notification } from "./notifier.js";

notifierConformance({ describe, it }, async () => {
  const lines: string[] = [];
  let broken = false;
  return {
    notifier: new ConsoleNotifier({
      format: "json",
      write: (line) => {
        if (broken) throw new Error("EPIPE");
        lines.push(line);
      },
    }),
    received: () => lines.map((l) => JSON.parse(l) as Notification),
    breakTarget: () => {
      broken = true;
    },
  };
});

describe("ConsoleNotifier", () => {
  it("writes one readable line: time, severity, kind, subject, body and data", async () => {
    const lines: string[] = [];
    const notifier = new ConsoleNotifier({ write: (l) => lines.push(l) });
    await notifier.notify(makeNotification({ body: "3 attempts", data: { attempts: 3 } }));
    await notifier.notify(
      makeNotification({ severity: "info", kind: "resumed_all", subject: "Resumed", body: "", data: null }),
    );
    expect(lines).toEqual([
      '2026-01-05T14:30:05.123Z CRITICAL run_failed: Job rebalance failed after 3 attempts — 3 attempts {"attempts":3}',
      "2026-01-05T14:30:05.123Z INFO resumed_all: Resumed",
    ]);
  });

  it("prints a multi-line body as its lines, indented under the header, not as literal \\n", async () => {
    const lines: string[] = [];
    const notifier = new ConsoleNotifier({ write: (l) => lines.push(l) });
    await notifier.notify(
      makeNotification({
        severity: "info",
        kind: "approvals_requested",
        subject: "2 trades to approve\nfrom morning",
        body: "BUY 10 AAPL\r\nSELL 5 MSFT\n\nExpires 2026-01-05T15:30:00.000Z.\n",
        data: { count: 2 },
      }),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("\\n");
    expect(lines[0]?.split("\n")).toEqual([
      '2026-01-05T14:30:05.123Z INFO approvals_requested: 2 trades to approve from morning {"count":2}',
      "  BUY 10 AAPL",
      "  SELL 5 MSFT",
      "",
      "  Expires 2026-01-05T15:30:00.000Z.",
    ]);
  });

  it("keeps the json format one valid JSON object per line, the body's newlines intact", async () => {
    const lines: string[] = [];
    const notifier = new ConsoleNotifier({ format: "json", write: (l) => lines.push(l) });
    await notifier.notify(makeNotification({ body: "first\nsecond", data: { attempts: 3 } }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/\n/);
    expect((JSON.parse(lines[0] ?? "") as Notification).body).toBe("first\nsecond");
  });

  it("logs through a logger at the level of the severity", async () => {
    const calls: [string, unknown, unknown][] = [];
    const at =
      (level: string): LogFn =>
      (a: unknown, b?: unknown) =>
        void calls.push([level, a, b]);
    const logger: Logger = { ...silentLogger, info: at("info"), warn: at("warn"), error: at("error") };
    const notifier = new ConsoleNotifier({ logger });
    for (const severity of ["info", "warning", "critical"] as const) {
      await notifier.notify(makeNotification({ severity, body: "b", data: { s: severity } }));
    }
    expect(calls.map(([level, , msg]) => [level, msg])).toEqual([
      ["info", "Job rebalance failed after 3 attempts: b"],
      ["warn", "Job rebalance failed after 3 attempts: b"],
      ["error", "Job rebalance failed after 3 attempts: b"],
    ]);
    expect(calls[2]?.[1]).toEqual({
      kind: "run_failed",
      severity: "critical",
      timestamp: "2026-01-05T14:30:05.123Z",
      data: { s: "critical" },
    });
  });

  it("validates its options", () => {
    expect(() => new ConsoleNotifier({ format: "xml" as never })).toThrow(/format/);
    expect(() => new ConsoleNotifier({ logger: {} as never })).toThrow(/logger/);
  });
});
