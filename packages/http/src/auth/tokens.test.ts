import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bearerToken, TokenVerifier } from "./tokens.js";

describe("TokenVerifier", () => {
  const digest = createHash("sha256").update("second-token-0123456789").digest("hex");
  const verifier = new TokenVerifier([
    { name: "alice", role: "admin", token: "first-token-0123456789" },
    { name: "ci", role: "viewer", sha256: digest },
  ]);

  it("names the token's owner and role, given the token or its digest", () => {
    expect(verifier.verify("first-token-0123456789")).toEqual({
      name: "alice",
      role: "admin",
      via: "bearer",
    });
    expect(verifier.verify("second-token-0123456789")).toEqual({ name: "ci", role: "viewer", via: "bearer" });
  });

  it("refuses near misses, other lengths, empty and huge tokens", () => {
    for (const t of [
      "first-token-012345678",
      "first-token-01234567890",
      "First-token-0123456789",
      "",
      "x".repeat(2000),
      digest,
    ]) {
      expect(verifier.verify(t)).toBeNull();
    }
  });

  it("reads only well-formed Bearer headers", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer \tabc ")).toBe("abc");
    expect(bearerToken("Bearer a b")).toBeNull();
    expect(bearerToken("Basic abc")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
