// Builds the dashboard into dist/dashboard with esbuild (which tsup brings): one ES module, one
// stylesheet and the page, minified. Runs after tsup in `pnpm build` (tsup cleans dist first).
// Prints the size of what a browser downloads, raw and gzipped.
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist", "dashboard");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: join(root, "dashboard", "src", "main.tsx") },
  outdir: out,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "eof",
  logLevel: "warning",
});
copyFileSync(join(root, "dashboard", "index.html"), join(out, "index.html"));

let raw = 0;
let gz = 0;
for (const name of ["index.html", "app.js", "app.css"]) {
  const bytes = readFileSync(join(out, name));
  raw += statSync(join(out, name)).size;
  gz += gzipSync(bytes, { level: 9 }).length;
}
process.stdout.write(
  `dashboard: ${(raw / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped) in dist/dashboard\n`,
);
