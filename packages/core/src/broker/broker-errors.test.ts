import { describe, expect, it } from "vitest";
import { TradecronError } from "../errors.js";
import * as core from "../index.js";
import { DEFAULT_RETRY } from "../schedule/policies.js";
import { isRetryable } from "../scheduler/retry.js";
import {
  BrokerAuthError,
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
} from "./broker.js";

describe("broker errors", () => {
  it("BrokerAuthError is a final TradecronError with code BROKER_AUTH, exported from the package", () => {
    const error = new BrokerAuthError("unauthorized; check the key", { details: { status: 401 } });
    expect(error).toBeInstanceOf(TradecronError);
    expect(error.name).toBe("BrokerAuthError");
    expect(error.code).toBe("BROKER_AUTH");
    expect(error.retryable).toBe(false);
    expect(error.toJSON()).toEqual({
      name: "BrokerAuthError",
      code: "BROKER_AUTH",
      message: "unauthorized; check the key",
      details: { status: 401 },
    });
    expect(core.BrokerAuthError).toBe(BrokerAuthError);
  });

  it("the scheduler's retry policy never retries bad credentials, and retries the transient errors", () => {
    expect(isRetryable(new BrokerAuthError("bad key"), DEFAULT_RETRY)).toBe(false);
    expect(isRetryable(new BrokerRejectedError("no buying power"), DEFAULT_RETRY)).toBe(false);
    expect(isRetryable(new BrokerUnavailableError("timeout"), DEFAULT_RETRY)).toBe(true);
    expect(isRetryable(new BrokerRateLimitedError("429", 500), DEFAULT_RETRY)).toBe(true);
  });
});
