import { defineConfig } from "tsup";

export default defineConfig({
  entry: { cli: "src/cli.ts", demo: "src/demo.ts", index: "src/index.ts" },
  format: ["esm"],
  target: "node22",
  platform: "node",
  sourcemap: true,
  clean: true,
  dts: false,
});
