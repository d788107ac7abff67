/**
 * Plain aligned columns, as kubectl and docker print them: no borders, so `grep`, `awk` and `cut`
 * work on the output (table libraries such as cli-table3 draw box borders, which they do not).
 */

/** Renders `rows` under `headers`, columns separated by two spaces; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
