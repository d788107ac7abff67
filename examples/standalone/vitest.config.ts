import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.ts";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: "example-standalone",
    include: ["src/**/*.test.ts"],
    // The demo test runs the demo (about 20 s of a real service, twice).
    testTimeout: 60_000,
  },
});
