import { ValidationError } from "@tradecron/core";
import { describe, expect, it } from "vitest";
import { AlpacaBroker, LIVE_BASE_URL, PAPER_BASE_URL } from "../src/index.js";
import { KEY_ID, SECRET } from "./helpers.js";

const problem = (make: () => unknown): ValidationError => {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError");
};

describe("AlpacaBroker options", () => {
  it("reads the credentials from APCA_API_KEY_ID and APCA_API_SECRET_KEY, and defaults to paper", () => {
    const broker = new AlpacaBroker({ env: { APCA_API_KEY_ID: KEY_ID, APCA_API_SECRET_KEY: SECRET } });
    expect(broker.toJSON()).toEqual({ name: "alpaca", baseUrl: PAPER_BASE_URL, connected: false });
    expect(new AlpacaBroker({ keyId: KEY_ID, secretKey: SECRET, paper: false }).toJSON().baseUrl).toBe(
      LIVE_BASE_URL,
    );
  });

  it("names the missing credential and the variable to set", () => {
    const e = problem(() => new AlpacaBroker({ env: {} }));
    expect(e.issues.map((i) => i.field)).toEqual(["keyId", "secretKey"]);
    expect(e.message).toMatch(/keyId: is missing: pass it or set APCA_API_KEY_ID/);
    expect(problem(() => new AlpacaBroker({ keyId: KEY_ID, env: {} })).field).toBe("secretKey");
  });

  it("rejects malformed credentials without printing them", () => {
    const bad = "my secret with spaces";
    const e = problem(() => new AlpacaBroker({ keyId: KEY_ID, secretKey: bad }));
    expect(e.field).toBe("secretKey");
    expect(JSON.stringify(e.toJSON()) + e.message + String(e.stack)).not.toContain(bad);
    expect(problem(() => new AlpacaBroker({ keyId: "short", secretKey: SECRET })).message).toMatch(
      /8 to 256 characters/,
    );
    expect(problem(() => new AlpacaBroker({ keyId: 42 as never, secretKey: SECRET })).field).toBe("keyId");
  });

  it("validates URLs, limits and functions, naming the field", () => {
    const base = { keyId: KEY_ID, secretKey: SECRET };
    expect(problem(() => new AlpacaBroker({ ...base, baseUrl: "ftp://x" })).field).toBe("baseUrl");
    expect(problem(() => new AlpacaBroker({ ...base, streamUrl: "http://x/stream" })).field).toBe(
      "streamUrl",
    );
    expect(problem(() => new AlpacaBroker({ ...base, requestTimeoutMs: 0 })).field).toBe("requestTimeoutMs");
    expect(problem(() => new AlpacaBroker({ ...base, rateLimit: { requestsPerMinute: -1 } })).field).toBe(
      "rateLimit.requestsPerMinute",
    );
    expect(problem(() => new AlpacaBroker({ ...base, updates: "sometimes" as never })).field).toBe("updates");
    expect(problem(() => new AlpacaBroker({ ...base, updates: { isOwner: true as never } })).field).toMatch(
      /^updates/,
    );
    expect(problem(() => new AlpacaBroker({ ...base, colour: "red" } as never)).message).toMatch(/colour/);
  });

  it("derives the stream URL from the REST base URL", () => {
    const b = new AlpacaBroker({ keyId: KEY_ID, secretKey: SECRET, baseUrl: "http://127.0.0.1:8080/" });
    expect(b.toJSON().baseUrl).toBe("http://127.0.0.1:8080");
  });
});
