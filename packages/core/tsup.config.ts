import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base";

export default defineConfig({
  ...baseConfig,
  entry: { index: "src/index.ts", testing: "src/testing/index.ts" },
  // p-retry ships ESM only; bundling it lets the CJS build load without require(esm).
  noExternal: ["p-retry", "is-network-error"],
  // Shared chunks keep one copy of each class, so `instanceof` holds across the main and testing entries.
  splitting: true,
});
