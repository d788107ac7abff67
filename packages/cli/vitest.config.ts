import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.ts";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: "cli",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The binary tests spawn processes and wait for real fires: give them room on a shared machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
