import { BrokerRateLimitedError, BrokerRejectedError, BrokerUnavailableError } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { isInformational, toBrokerError } from "./ib-errors.js";

describe("IB error codes", () => {
  const map = (code: number, message = "m") => toBrokerError({ code, message, reqId: 12 }, "order tc-1");

  it("maps rejections to a final BrokerRejectedError, keeping IB's code and message", () => {
    for (const code of [201, 200, 110, 10147, 383]) {
      const e = map(code, "Order rejected - reason:no");
      expect(e).toBeInstanceOf(BrokerRejectedError);
      expect(e.details).toEqual({ ibCode: code, ibMessage: "Order rejected - reason:no", reqId: 12 });
    }
  });

  it("maps connectivity and client errors to a retryable BrokerUnavailableError", () => {
    for (const code of [1100, 2110, 502, 504, 326, 1300])
      expect(map(code)).toBeInstanceOf(BrokerUnavailableError);
  });

  it("maps a pacing violation to BrokerRateLimitedError with retryAfterMs", () => {
    const e = map(100);
    expect(e).toBeInstanceOf(BrokerRateLimitedError);
    expect((e as BrokerRateLimitedError).retryAfterMs).toBe(1_000);
  });

  it("treats warnings and farm notices as informational", () => {
    for (const code of [2104, 2106, 2158, 399, 10167]) expect(isInformational(code)).toBe(true);
    for (const code of [201, 1100, 100]) expect(isInformational(code)).toBe(false);
  });
});
