import { describe, expect, it } from "vitest";
import { makeNotification, notifierConformance } from "../testing/notifier-suite.js";
import { FunctionNotifier } from "./function-notifier.js";
import { type Notification, NotifierError } from "./notifier.js";

notifierConformance({ describe, it }, async () => {
  const got: Notification[] = [];
  let broken = false;
  return {
    notifier: new FunctionNotifier(async (n) => {
      if (broken) throw new Error("slack said no");
      got.push(n);
    }),
    received: () => got,
    breakTarget: () => {
      broken = true;
    },
  };
});

describe("FunctionNotifier", () => {
  it("waits for the function and passes the notification through", async () => {
    const seen: string[] = [];
    const notifier = new FunctionNotifier(
      async (n) => {
        await Promise.resolve();
        seen.push(n.subject);
      },
      { name: "slack" },
    );
    expect(notifier.name).toBe("slack");
    await notifier.notify(makeNotification({ subject: "hello" }));
    expect(seen).toEqual(["hello"]);
  });

  it("wraps a failure in a NotifierError that keeps the cause, also for a synchronous throw", async () => {
    const cause = new Error("nope");
    const notifier = new FunctionNotifier(() => {
      throw cause;
    });
    const error = await notifier.notify(makeNotification()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotifierError);
    expect((error as NotifierError).message).toBe("notifier function: nope");
    expect((error as NotifierError).cause).toBe(cause);
  });

  it("refuses something that is not a function, naming the field", () => {
    expect(() => new FunctionNotifier("x" as never)).toThrow(/fn: must be a function/);
  });
});
