#!/usr/bin/python3
"""APScheduler 3.9 side of the scheduler benchmark (bench/scheduler.bench.mjs runs it).

    /usr/bin/python3 bench/scheduler_apscheduler.py <figure> '<json params>'

Same figures and workloads as bench/scheduler-worker.mjs, on a BackgroundScheduler with its default
thread-pool executor (10 threads) and the default memory job store. misfire_grace_time is None, so
a late fire still runs (APScheduler's default of 1 s would drop it): every system runs every fire.
Prints one JSON line with the result on stdout.
"""

import gc
import json
import math
import resource
import sys
import threading
import time
import tracemalloc
from datetime import datetime, timezone

import apscheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

UTC = timezone.utc


def new_scheduler():
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
    )
    scheduler.start()
    return scheduler


def wall_ms():
    return time.time() * 1000.0


def sleep_until_ms(t):
    delay = (t - wall_ms()) / 1000.0
    if delay > 0:
        time.sleep(delay)


def at(ms):
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


def percentile(xs, p):
    if not xs:
        return None
    i = min(len(xs) - 1, max(0, math.ceil(p / 100.0 * len(xs)) - 1))
    return xs[i]


def lattice_point(phase, period, now):
    """The point phase + k * period the fire at `now` belongs to (a little early counts as that point)."""
    k = round((now - phase) / period - 0.45)
    return phase + k * period


def lateness(p):
    n, shape, period, window = p["n"], p["shape"], p["periodMs"], p["windowMs"]
    sec = period // 1000
    samples = []
    bounds = {"start": math.inf, "end": math.inf}

    # "second": every fire is due at a whole second; "spread": on the job's own lattice.
    lattice = 1000 if shape == "second" else period

    def job(phase):
        now = wall_ms()
        due = lattice_point(phase, lattice, now)
        if bounds["start"] <= due < bounds["end"]:
            samples.append(now - due)

    scheduler = new_scheduler()
    t0 = time.perf_counter()
    base = math.floor(wall_ms() / period) * period
    for i in range(n):
        if shape == "spread":
            phase = (i * period) // n
            trigger = IntervalTrigger(seconds=sec, start_date=at(base + phase), timezone=UTC)
        else:
            phase = 0
            seconds = "*" if sec == 1 else ",".join(str(s) for s in range(i % sec, 60, sec))
            trigger = CronTrigger(second=seconds, timezone=UTC)
        scheduler.add_job(job, trigger, args=[phase % period], id=f"s{i}")
    arm_ms = (time.perf_counter() - t0) * 1000.0
    bounds["start"] = math.ceil((wall_ms() + 800) / 1000.0) * 1000.0
    bounds["end"] = bounds["start"] + window
    expected = round(n * window / period)
    deadline = bounds["end"] + 3000
    while wall_ms() < bounds["end"] + 300 or (len(samples) < expected and wall_ms() < deadline):
        time.sleep(0.1)
    xs = sorted(samples)
    scheduler.shutdown(wait=False)
    return {
        "shape": shape,
        "n": n,
        "periodMs": period,
        "windowMs": window,
        "expected": expected,
        "armMs": arm_ms,
        "fires": len(xs),
        "p50": percentile(xs, 50),
        "p99": percentile(xs, 99),
        "max": xs[-1] if xs else None,
        "min": xs[0] if xs else None,
    }


def burst(p):
    n, lead = p["n"], p["leadMs"]
    starts = []
    done = threading.Event()
    lock = threading.Lock()

    def job():
        now = wall_ms()
        with lock:
            starts.append(now)
            if len(starts) == n:
                done.set()

    # How long arming takes, from a throwaway scheduler armed with a sample (far in the future), so
    # the instant is put just far enough ahead.
    k = min(n, max(200, n // 50))
    probe = new_scheduler()
    far = at(math.ceil(wall_ms() / 1000.0) * 1000.0 + 86_400_000)
    t0 = time.perf_counter()
    for i in range(k):
        probe.add_job(job, DateTrigger(run_date=far, timezone=UTC), id=f"p{i}")
    estimate = (time.perf_counter() - t0) * 1000.0 / k * n
    probe.shutdown(wait=False)
    del probe
    gc.collect()
    lead = max(lead, math.ceil(estimate * 2 + 1000))

    scheduler = new_scheduler()
    arm_start = wall_ms()
    T = math.ceil((arm_start + lead) / 1000.0) * 1000.0
    trigger_at = at(T)
    for i in range(n):
        scheduler.add_job(job, DateTrigger(run_date=trigger_at, timezone=UTC), id=f"s{i}")
    arm_ms = wall_ms() - arm_start
    if wall_ms() > T - 100:
        print(f"arming took {arm_ms:.0f} ms, longer than the lead of {lead} ms", file=sys.stderr)
        sys.exit(3)
    complete = done.wait(timeout=(T - wall_ms()) / 1000.0 + 60)
    scheduler.shutdown(wait=False)
    return {
        "n": n,
        "fires": len(starts),
        "complete": complete,
        "leadMs": T - arm_start,
        "armMs": arm_ms,
        "firstMs": min(starts) - T if starts else None,
        "lastMs": max(starts) - T if starts else None,
        "firesPerSec": len(starts) / ((max(starts) - T) / 1000.0) if starts else None,
    }


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def arm(p):
    """Time to arm and memory per armed schedule: daily cron jobs at distinct times from an hour ahead.

    memory "tracemalloc": Python allocations traced by tracemalloc (slows arming, so the timing
    run uses memory "rss" and reports the resident-set growth instead).
    """
    steps, memory = p["steps"], p.get("memory", "rss")
    budget = p.get("budgetMs", math.inf)

    def job():
        pass

    origin = math.ceil(wall_ms() / 1000.0) * 1000.0 + 3_600_000
    slots = 72_000
    if memory == "tracemalloc":
        tracemalloc.start()
    gc.collect()
    scheduler = new_scheduler()
    gc.collect()
    base = tracemalloc.get_traced_memory()[0] if memory == "tracemalloc" else rss_bytes()
    results = []
    i = 0
    arm_ms = 0.0
    for target in steps:
        t0 = time.perf_counter()
        step_start = i
        while i < target:
            t = at(origin + (i % slots) * 1000)
            trigger = CronTrigger(hour=t.hour, minute=t.minute, second=t.second, timezone=UTC)
            scheduler.add_job(job, trigger, id=f"s{i}")
            i += 1
            if i % 1000 == 0 and arm_ms + (time.perf_counter() - t0) * 1000.0 > budget:
                break
        step_ms = (time.perf_counter() - t0) * 1000.0
        arm_ms += step_ms
        gc.collect()
        used = (tracemalloc.get_traced_memory()[0] if memory == "tracemalloc" else rss_bytes()) - base
        step = {"n": target, "armed": i, "armMs": arm_ms, "heapBytes": used, "bytesPerSchedule": used / i}
        if i < target:
            # Projected at the rate of this step so far (APScheduler's inserts slow down as it grows).
            step["projectedArmMs"] = arm_ms - step_ms + step_ms * (target - step_start) / (i - step_start)
            results.append(step)
            break
        results.append(step)
    scheduler.shutdown(wait=False)
    return {"memory": memory, "steps": results}


FIGURES = {"lateness": lateness, "burst": burst, "arm": arm}

if __name__ == "__main__":
    figure = sys.argv[1] if len(sys.argv) > 1 else ""
    if figure not in FIGURES:
        print(f"usage: scheduler_apscheduler.py <{'|'.join(FIGURES)}> '<json>'", file=sys.stderr)
        sys.exit(2)
    params = json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    result = FIGURES[figure](params)
    result.update({"system": "apscheduler", "figure": figure, "version": apscheduler.__version__,
                   "python": sys.version.split()[0]})
    print(json.dumps(result), flush=True)
