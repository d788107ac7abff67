import { defineConfig } from "vitest/config";

// One workspace config: every package and example is a project with its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*"],
  },
});
