import { defineConfig } from "tsup";
import { baseConfig } from "../../tsup.config.base";

export default defineConfig([
  { ...baseConfig, entry: { index: "src/index.ts" } },
  // The binary: ESM only, no types; tsup keeps the shebang and makes the file executable.
  { ...baseConfig, entry: { bin: "src/bin.ts" }, format: ["esm"], dts: false, clean: false },
]);
