import type { Options } from "tsup";

/**
 * The one build base every package spreads: ESM + CJS with types for each, sourcemaps, Node 22.
 * Packages add their own entries and the ESM-only dependencies they must bundle for CJS.
 */
export const baseConfig = {
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
  platform: "node",
  splitting: false,
  treeshake: true,
} satisfies Options;
