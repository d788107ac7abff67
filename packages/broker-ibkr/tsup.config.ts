import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base";

export default defineConfig({
  ...baseConfig,
  entry: { index: "src/index.ts", testing: "src/testing/index.ts" },
  // Shared chunks keep one copy of each class, so `instanceof` holds across the main and testing entries.
  splitting: true,
});
