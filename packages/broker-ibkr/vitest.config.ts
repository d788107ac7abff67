import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.ts";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: "broker-ibkr",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Real sockets on a machine other jobs may load: a wall-clock bound, not a behaviour (test
    // time runs on injected clocks). 5 s is too tight when the suite shares two cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
