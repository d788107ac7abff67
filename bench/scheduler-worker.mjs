// One measurement of one JavaScript scheduler, in a fresh process. Run by scheduler.bench.mjs:
//
//   node --expose-gc bench/scheduler-worker.mjs <system> <figure> '<json params>'
//
// system: tradecron | croner | node-cron | toad-scheduler
// figure: lateness {n, shape: "second" | "spread", periodMs, windowMs}
//         burst    {n, leadMs}     n one-off schedules due at the same whole second
//         arm      {steps: [..], bulk?}   heap per armed schedule and time to arm, at each step
//                  (bulk: tradecron arms each step with one createSchedules call)
// Prints one JSON line with the result on stdout, then exits. TRADECRON_CORE=<path to a built
// dist/index.js> measures that build of core instead of the workspace's (to compare a change).
//
// Lateness is measured inside the handler only: handler start (wall clock, sub-millisecond) minus the
// instant the fire was due. tradecron hands the handler that instant (ctx.fire.scheduledAt); for the
// peers it is the point of the schedule's own lattice (phase + k * period) the fire belongs to.

import { pathToFileURL } from "node:url";
import { getHeapStatistics } from "node:v8";
import { Cron } from "croner";
import nodeCron from "node-cron";
import { SimpleIntervalJob, Task, ToadScheduler } from "toad-scheduler";

// TRADECRON_CORE=<path to a built dist/index.js> measures another build of core (to compare a change).
const { MemoryStorage, Scheduler } = await import(
  process.env.TRADECRON_CORE ? pathToFileURL(process.env.TRADECRON_CORE).href : "@tradecron/core"
);

const [system, figure, rawParams = "{}"] = process.argv.slice(2);
const params = JSON.parse(rawParams);

// ------------------------------------------------------------------------------------------------
// clock

/**
 * performance.now() aligned on Date.now(): the schedulers compute their waits from Date.now(), whose
 * resolution is 1 ms. Spinning until Date.now() ticks gives the offset to well under a microsecond.
 */
function calibrate() {
  const offsets = [];
  for (let k = 0; k < 5; k++) {
    const d0 = Date.now();
    let d = d0;
    while (d === d0) d = Date.now();
    offsets.push(d - performance.now());
  }
  offsets.sort((a, b) => a - b);
  return offsets[2];
}
let offset = calibrate();
const wall = () => performance.now() + offset;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const sleepUntil = (t) => sleep(t - Date.now());
const gcNow = () => {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
};
const heapUsed = () => {
  gcNow();
  return process.memoryUsage().heapUsed;
};

// ------------------------------------------------------------------------------------------------
// systems: each arms schedules with a handler `fire(scheduledAt | null)`; null means "compute it"

const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** A time of day (UTC) as a daily 6-field cron expression. */
function dailyCron(at) {
  const d = new Date(at);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

const systems = {
  async tradecron(onFire) {
    const s = new Scheduler({ storage: new MemoryStorage(), instanceId: "bench" });
    s.register("job", (ctx) => onFire(ctx.fire.scheduledAt));
    await s.start();
    const create = (i, trigger) => s.createSchedule({ id: `s${i}`, job: "job", trigger });
    return {
      cron: (i, expression) => create(i, { cron: expression }),
      /** The bulk path: one createSchedules call for a list of [i, expression]. */
      cronBatch: (list) =>
        s.createSchedules(
          list.map(([i, expression]) => ({ id: `s${i}`, job: "job", trigger: { cron: expression } })),
        ),
      every: (i, periodMs, anchor) => create(i, { every: periodMs, anchor }),
      at: (i, at) => create(i, { at }),
      dispose: () => s.stop({ timeoutMs: 0 }),
    };
  },
  async croner(onFire) {
    const handler = () => onFire(null);
    const jobs = [];
    return {
      cron: (_i, expression) => {
        jobs.push(new Cron(expression, handler));
      },
      at: (_i, at) => {
        jobs.push(new Cron(new Date(at), handler));
      },
      dispose: () => {
        for (const job of jobs) job.stop();
      },
    };
  },
  async "node-cron"(onFire) {
    const handler = () => onFire(null);
    const tasks = [];
    // Like tradecron's default misfire tolerance (30 s) and APScheduler's run here (no grace limit):
    // node-cron's default would drop a fire that comes more than a second late. No warning per fire.
    const options = { missedExecutionTolerance: 30_000, logger: silentLogger };
    return {
      cron: (_i, expression) => {
        tasks.push(nodeCron.schedule(expression, handler, options));
      },
      dispose: async () => {
        for (const task of tasks) await task.destroy();
      },
    };
  },
  async "toad-scheduler"(onFire) {
    const scheduler = new ToadScheduler();
    const handler = () => onFire(null);
    return {
      /** A job every `periodMs` from now: toad-scheduler has no cron of its own and no start time. */
      interval: (i, periodMs) => {
        const task = new Task(`t${i}`, handler);
        scheduler.addSimpleIntervalJob(
          new SimpleIntervalJob({ milliseconds: periodMs }, task, { id: `j${i}` }),
        );
      },
      dispose: () => scheduler.stop(),
    };
  },
};

/** Thrown when the schedules of a burst could not all be armed before their instant. */
class LeadTooShort extends Error {}

// ------------------------------------------------------------------------------------------------
// helpers

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summarize(samples, count) {
  const xs = Array.from(samples.subarray(0, count)).sort((a, b) => a - b);
  return {
    fires: xs.length,
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
    max: xs.length ? xs[xs.length - 1] : null,
    min: xs.length ? xs[0] : null,
  };
}

/** The point of the lattice phase + k * period that the fire at `now` belongs to (a few ms early counts as that point). */
function latticePoint(phase, period, now) {
  const k = Math.round((now - phase) / period - 0.45);
  return phase + k * period;
}

// ------------------------------------------------------------------------------------------------
// figures

/**
 * Firing lateness with n armed schedules, each every `periodMs`:
 * - shape "second": schedule i fires at whole seconds, at second (i mod periodMs/1000) of the period,
 *   so n * 1000 / periodMs schedules are due together at each whole second (cron `o,o+10,.. * * * * *`);
 * - shape "spread": schedule i has its own phase floor(i * periodMs / n) ms, so fires are spread
 *   evenly (tradecron: interval with anchor; toad-scheduler: job added at its phase).
 * Only fires due inside [windowStart, windowStart + windowMs) are counted.
 */
async function lateness({ n, shape, periodMs, windowMs }) {
  const samples = new Float64Array(n * Math.ceil(windowMs / periodMs + 2) + 16);
  let count = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  // Peers' handlers cannot tell which schedule fired: in the "second" shape every fire is due at a
  // whole second; toad-scheduler's handlers are bound to their job's own lattice below.
  const record = (scheduledAt, now) => {
    if (scheduledAt >= windowStart && scheduledAt < windowEnd) samples[count++] = now - scheduledAt;
  };
  const sec = periodMs / 1000;
  const onFire = (scheduledAt) => {
    const now = wall();
    record(scheduledAt ?? latticePoint(0, 1000, now), now);
  };
  const api = await systems[system](onFire);
  const keepAlive = setInterval(() => {}, 1000);
  const armStart = performance.now();
  const base = Math.floor(Date.now() / periodMs) * periodMs;
  if (system === "toad-scheduler") {
    // No start time and no cron: a job's phase is the moment it is added. Add each at its phase, in
    // one pass over one period from the next whole second; record each job's own lattice.
    const phaseOf = new Float64Array(n);
    const first = Math.ceil((Date.now() + 50) / 1000) * 1000;
    const order = [];
    for (let i = 0; i < n; i++) {
      const ph = shape === "spread" ? Math.floor((i * periodMs) / n) : (i % sec) * 1000;
      order.push([ph, i]);
    }
    order.sort((a, b) => a[0] - b[0]);
    const scheduler = new ToadScheduler();
    let k = 0;
    while (k < order.length) {
      const due = first + order[k][0];
      await sleepUntil(due);
      const at = Date.now(); // libuv's loop time, which setInterval counts from, is this tick's
      for (; k < order.length && first + order[k][0] <= at; k++) {
        const i = order[k][1];
        phaseOf[i] = at % periodMs;
        const task = new Task(`t${i}`, () => {
          const now = wall();
          record(latticePoint(phaseOf[i], periodMs, now), now);
        });
        scheduler.addSimpleIntervalJob(
          new SimpleIntervalJob({ milliseconds: periodMs }, task, { id: `j${i}` }),
        );
      }
    }
  } else if (shape === "spread") {
    if (!api.every) throw new Error(`${system} cannot express the spread shape`);
    for (let i = 0; i < n; i++) await api.every(i, periodMs, base + Math.floor((i * periodMs) / n));
  } else {
    for (let i = 0; i < n; i++) {
      // A list, not `o/10`: croner rejects a numeric start before a step.
      const seconds = [];
      for (let s = i % sec; s < 60; s += sec) seconds.push(s);
      const expression = sec === 1 ? "* * * * * *" : `${seconds.join(",")} * * * * *`;
      await api.cron(i, expression);
    }
  }
  const armMs = performance.now() - armStart;
  offset = calibrate();
  windowStart = Math.ceil((Date.now() + 800) / 1000) * 1000;
  windowEnd = windowStart + windowMs;
  // Expected fires in the window: each schedule fires windowMs / periodMs times (windowMs is a multiple).
  const expected = Math.round((n * windowMs) / periodMs);
  const deadline = windowEnd + 3000;
  while (Date.now() < windowEnd + 300 || (count < expected && Date.now() < deadline)) await sleep(100);
  clearInterval(keepAlive);
  return { system, figure, shape, n, periodMs, windowMs, expected, armMs, ...summarize(samples, count) };
}

/**
 * How long arming n schedules takes, from a throwaway instance armed with a sample of them (far in
 * the future), so the burst's instant can be put just far enough ahead.
 */
async function armingEstimate(n, armOne) {
  const k = Math.min(n, Math.max(200, Math.floor(n / 50)));
  const api = await systems[system](() => {});
  const far = Math.ceil((Date.now() + 86_400_000) / 1000) * 1000;
  for (let i = 0; i < k; i++) await armOne(api, i, far); // warm-up: first calls run cold code
  const t0 = performance.now();
  for (let i = k; i < 2 * k; i++) await armOne(api, i, far);
  const perSchedule = (performance.now() - t0) / k;
  await api.dispose();
  gcNow();
  return perSchedule * n;
}

/** n one-off schedules due at the same whole second T: time from T until each handler started. */
async function burst({ n, leadMs }) {
  const starts = new Float64Array(n);
  let count = 0;
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  let cpu0 = null;
  let cpuMs = null;
  const onFire = () => {
    starts[count++] = wall();
    if (count === n) {
      // CPU time of the process from just before T to the last start: less sensitive to other load than wall time.
      if (cpu0) {
        const used = process.cpuUsage(cpu0);
        cpuMs = (used.user + used.system) / 1000;
      }
      done();
    }
  };
  // tradecron and croner have one-off triggers; node-cron gets the cron second of T (it fires at T,
  // then a minute later); toad-scheduler has neither (below).
  const armOne =
    system === "node-cron"
      ? (api, i, T) => api.cron(i, dailyCron(T))
      : system === "toad-scheduler"
        ? null
        : (api, i, T) => api.at(i, T);
  const estimate = armOne ? await armingEstimate(n, armOne) : 0;
  const lead = Math.max(leadMs, Math.ceil(estimate * 2 + 1000));
  const api = await systems[system](onFire);
  const keepAlive = setInterval(() => {}, 1000);
  const armStart = Date.now();
  const T = Math.ceil((armStart + lead) / 1000) * 1000;
  if (armOne) {
    for (let i = 0; i < n; i++) await armOne(api, i, T);
  } else {
    // toad-scheduler has neither: one interval job per schedule, all added in one tick, first due at T.
    await sleepUntil(T - 1000);
    const period = T - Date.now();
    for (let i = 0; i < n; i++) api.interval(i, period);
  }
  const armMs = Date.now() - armStart;
  if (Date.now() > T - 100)
    throw new LeadTooShort(`arming took ${armMs} ms, longer than the lead of ${lead} ms`);
  offset = calibrate();
  await sleepUntil(T - 20);
  cpu0 = process.cpuUsage();
  const timeout = sleep(T - Date.now() + 60_000).then(() => "timeout");
  const outcome = await Promise.race([all, timeout]);
  clearInterval(keepAlive);
  let firstStart = Number.POSITIVE_INFINITY;
  let lastStart = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    if (starts[i] < firstStart) firstStart = starts[i];
    if (starts[i] > lastStart) lastStart = starts[i];
  }
  return {
    system,
    figure,
    n,
    fires: count,
    complete: outcome !== "timeout",
    leadMs: T - armStart,
    armMs,
    firstMs: count ? firstStart - T : null,
    lastMs: count ? lastStart - T : null,
    firesPerSec: count ? count / ((lastStart - T) / 1000) : null,
    cpuMs,
  };
}

/**
 * Heap per armed schedule and time to arm, at each of `steps` schedules (daily crons at distinct
 * times). A step stops early when arming takes longer than `budgetMs` (its time is then projected),
 * and is skipped when the heap it needs, projected from the previous step, would not fit.
 */
async function arm({ steps, budgetMs = Number.POSITIVE_INFINITY, bulk = false }) {
  const onFire = () => {};
  // Distinct daily times from one hour ahead on, none of which comes during the run.
  const from = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
  const slots = 72_000;
  const h0 = heapUsed();
  const api = await systems[system](onFire);
  const hStart = heapUsed();
  const heapLimit = getHeapStatistics().heap_size_limit;
  const results = [];
  let i = 0;
  let armMs = 0;
  let perSchedule = 0;
  for (const target of steps) {
    if (perSchedule * target > 0.8 * heapLimit) {
      results.push({
        n: target,
        skipped: `out of heap: ${((perSchedule * target) / 1e9).toFixed(1)} GB projected, limit ${(heapLimit / 1e9).toFixed(1)} GB`,
      });
      continue;
    }
    if (bulk) {
      // One createSchedules call for the whole step (tradecron's bulk path), timed with building its list.
      if (!api.cronBatch) throw new Error(`${system} has no bulk path`);
      const t0 = performance.now();
      const list = [];
      for (; i < target; i++) list.push([i, dailyCron(from + (i % slots) * 1000)]);
      await api.cronBatch(list);
      list.length = 0;
      armMs += performance.now() - t0;
      const h = heapUsed();
      perSchedule = (h - hStart) / i;
      results.push({ n: target, armed: i, armMs, heapBytes: h - hStart, bytesPerSchedule: perSchedule });
      continue;
    }
    const t0 = performance.now();
    const stepStart = i;
    while (i < target) {
      const end = Math.min(target, i + 1000);
      if (api.cron) {
        for (; i < end; i++) await api.cron(i, dailyCron(from + (i % slots) * 1000));
      } else {
        // toad-scheduler: interval jobs of distinct periods between 1 and 21 hours.
        for (; i < end; i++) api.interval(i, 3_600_000 + (i % slots) * 1000);
      }
      if (armMs + performance.now() - t0 > budgetMs) break;
    }
    const stepMs = performance.now() - t0;
    armMs += stepMs;
    const h = heapUsed();
    perSchedule = (h - hStart) / i;
    const step = { n: target, armed: i, armMs, heapBytes: h - hStart, bytesPerSchedule: perSchedule };
    if (i < target) {
      // Projected at the rate of this step so far.
      step.projectedArmMs = armMs - stepMs + (stepMs * (target - stepStart)) / (i - stepStart);
      results.push(step);
      break;
    }
    results.push(step);
  }
  return { system, figure, setupHeapBytes: hStart - h0, steps: results };
}

const figures = { lateness, burst, arm };
if (!systems[system] || !figures[figure]) {
  process.stderr.write(
    `usage: scheduler-worker.mjs <${Object.keys(systems).join("|")}> <${Object.keys(figures).join("|")}> '<json>'\n`,
  );
  process.exit(2);
}
try {
  const result = await figures[figure](params);
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
} catch (error) {
  // One short line: the parent shows it in the table.
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof LeadTooShort ? 3 : 1);
}
