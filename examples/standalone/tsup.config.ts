import { defineConfig } from "tsup";

// Only the demo's runner is built: the config and jobs files are loaded by `tradecron` as they are.
export default defineConfig({
  entry: { demo: "src/demo.ts" },
  format: ["esm"],
  target: "node22",
  platform: "node",
  sourcemap: true,
  clean: true,
  dts: false,
});
