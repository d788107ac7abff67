// A year of dry runs, printed as the package README shows them: a monthly auto-invest and a
// weekly-checked drift rebalance over 2025 on XNYS, on a synthetic but deterministic price path.
// Run after `pnpm build`:  node packages/automation/examples/simulate-year.mjs

import { autoInvest, rebalance, simulate } from "@tradecron/automation";
import { getCalendar } from "@tradecron/core";

const nyse = getCalendar("XNYS");
const sessions = nyse.sessionsBetween("2025-01-01", "2025-12-31");
const round = (x) => Math.round(x * 100) / 100;
/** Daily bars: VTI trends up 45 % with a spring dip; BND drifts 2 % up. */
const bars = sessions.flatMap((s, i) => {
  const t = i / sessions.length;
  const vti = 250 * (1 + 0.45 * t - 0.15 * Math.exp(-(((t - 0.3) / 0.06) ** 2)));
  const bnd = 72 * (1 + 0.02 * t) + 0.4 * Math.sin(t * 12);
  return [
    { symbol: "VTI", date: s.date, open: round(vti * 0.998), close: round(vti) },
    { symbol: "BND", date: s.date, open: round(bnd * 0.999), close: round(bnd) },
  ];
});

const show = (title, report) => {
  console.log(`\n## ${title}\n`);
  console.log(`window ${report.window.from} .. ${report.window.to} (${report.window.calendar})`);
  console.log("counts", JSON.stringify(report.counts));
  console.log("\nexecuted:");
  for (const f of report.fires.filter((x) => x.outcome === "executed")) {
    const s = f.summary;
    const orders = s.orders
      .map(
        (o, i) =>
          `${o.side} ${s.planned[i]?.notional ? `$${s.planned[i].notional} = ` : ""}${o.filledQty} ${o.symbol} @ ${o.avgFillPrice}`,
      )
      .join(", ");
    console.log(`  ${f.local}  ${s.period ?? ""}  ${s.reason ?? s.details?.trigger ?? ""}  ${orders}`);
  }
  console.log("\nskips other than not_due, as source: reason");
  const bucket = new Map();
  for (const k of report.skips) {
    const key = `${k.source}: ${k.reason}`;
    bucket.set(key, [...(bucket.get(key) ?? []), k.local.slice(0, 10) + (k.symbol ? ` ${k.symbol}` : "")]);
  }
  for (const [key, dates] of bucket) {
    console.log(
      `  ${key} x${dates.length}: ${dates.slice(0, 4).join(", ")}${dates.length > 4 ? ", ..." : ""}`,
    );
  }
  console.log("\nrolled:");
  for (const r of report.rolled) console.log(`  ${r.period}: ${r.nominal} -> ${r.date} (${r.because})`);
  console.log("\npositions:", report.positions.map((p) => `${p.symbol} ${p.qty}`).join(", "));
  console.log("account:", JSON.stringify(report.account));
};

show(
  "Monthly auto-invest: 500 on the 1st (60 % VTI / 40 % BND), fractional, cap 4 800",
  await simulate({
    from: "2025-01-01T00:00:00Z",
    to: "2025-12-31T23:00:00Z",
    bars,
    initialCash: 10_000,
    setup: (scheduler) =>
      autoInvest(scheduler, {
        id: "core",
        legs: [
          { symbol: "VTI", weight: 0.6 },
          { symbol: "BND", weight: 0.4 },
        ],
        amount: 500,
        cap: 4800,
        cadence: { every: "month", day: 1 },
      }),
  }),
);

show(
  "Drift rebalance: 60/40, the 5/25 bands, checked on Mondays, 31-day cooldown, 10 000 to start",
  await simulate({
    from: "2025-01-01T00:00:00Z",
    to: "2025-12-31T23:00:00Z",
    bars,
    initialCash: 10_000,
    setup: (scheduler) =>
      rebalance(scheduler, {
        id: "6040",
        targets: { VTI: 0.6, BND: 0.4 },
        cadence: { every: "week", weekday: "monday" },
        bands: { absolute: 0.05, relative: 0.25 },
        cooldown: "31d",
        minTrade: 50,
      }),
  }),
);
