// Where the time of arming a schedule goes, against toad-scheduler's whole arm in the same run.
//
//   node --expose-gc bench/arm-profile.mjs [n] [--rounds 3] [--out arm.cpuprofile]
//
// Arms `n` (default 100,000) daily crons at distinct times of day, as bench/scheduler.bench.mjs's
// arm figure does, and times apart, per schedule: the input's validation alone (zod, the
// schedule input schema every public call goes through), building the stored record (validation
// included), compiling the trigger and computing its first fire, and the whole bulk path
// (`Scheduler.createSchedules` on MemoryStorage: validation, first fire, the storage write, the
// registry and queue, events and audit). Then toad-scheduler arming `n` interval jobs. Rounds are
// interleaved; medians are printed. `--out` writes a CPU profile of one more createSchedules.
// Needs the built packages (`pnpm run build`).

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { parseArgs } from "node:util";
import {
  buildScheduleRecord,
  compileTrigger,
  MemoryStorage,
  Scheduler,
  scheduleInputSchema,
} from "@tradecron/core";
import { SimpleIntervalJob, Task, ToadScheduler } from "toad-scheduler";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "3" }, out: { type: "string" } },
});
const N = Number(positionals[0] ?? 100_000);
const ROUNDS = Number(args.rounds);
const gc = globalThis.gc ?? (() => {});

const from = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
const cronOf = (at) => {
  const d = new Date(at);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
};
const inputs = (prefix) =>
  Array.from({ length: N }, (_, i) => ({
    id: `${prefix}${i}`,
    job: "job",
    trigger: { cron: cronOf(from + (i % 72_000) * 1000) },
  }));

/** µs per schedule of `fn` over `n` schedules, after a collection. */
async function time(fn) {
  gc();
  const t = performance.now();
  await fn();
  return ((performance.now() - t) * 1000) / N;
}

const stages = {
  "validation (zod)": async (list) => {
    for (const input of list) scheduleInputSchema.parse(input);
  },
  "record (validation + record)": async (list) => {
    const now = Date.now();
    for (const input of list) buildScheduleRecord(input, now);
  },
  "trigger + first fire": async (list) => {
    const now = Date.now();
    for (const input of list)
      compileTrigger({ type: "cron", expression: input.trigger.cron }, input.id).next(now);
  },
  "createSchedules (all of it)": async (list) => {
    const s = new Scheduler({ storage: new MemoryStorage(), instanceId: "bench" });
    s.register("job", () => {});
    await s.start();
    await s.createSchedules(list);
    await s.stop({ timeoutMs: 0 });
  },
  "toad-scheduler (all of it)": async () => {
    const scheduler = new ToadScheduler();
    for (let i = 0; i < N; i++) {
      const task = new Task(`t${i}`, () => {});
      scheduler.addSimpleIntervalJob(
        new SimpleIntervalJob({ milliseconds: 3_600_000 + (i % 72_000) * 1000 }, task, { id: `j${i}` }),
      );
    }
    scheduler.stop();
  },
};

// Warm-up: every stage once on a small list, so the rounds measure optimized code.
for (const fn of Object.values(stages)) await fn(inputs("w").slice(0, 2000));
const results = Object.fromEntries(Object.keys(stages).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(stages)) {
    const list = inputs(`r${round}-`);
    results[name].push(await time(() => fn(list)));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const toad = median(results["toad-scheduler (all of it)"]);
console.log(
  `${N.toLocaleString("en-US")} schedules, ${ROUNDS} interleaved rounds (median), Node ${process.version}\n`,
);
console.log("| stage | µs per schedule | x toad-scheduler's whole arm |");
console.log("|---|--:|--:|");
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`| ${name} | ${m.toFixed(2)} | ${(m / toad).toFixed(2)} |`);
}

if (args.out) {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  const list = inputs("p");
  await session.post("Profiler.start");
  await stages["createSchedules (all of it)"](list);
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(args.out, JSON.stringify(profile));
  console.log(`\nCPU profile of one createSchedules: ${args.out}`);
}
