import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base";

export default defineConfig({
  ...baseConfig,
  entry: { index: "src/index.ts" },
  // import.meta.url in the CJS build too: the router finds its pre-built dashboard next to itself.
  shims: true,
});
