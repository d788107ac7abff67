/**
 * Background CPU work in slices, for storages: retention's prune queues, FileStorage's segment
 * builds (seals, merges, compactions) run on the event loop that also claims and starts fires,
 * so work over 100,000 records must not hold it for 100 ms in one go. These helpers yield
 * between slices of about {@link SLICE_MS}.
 */

/** The longest a slice holds the event loop before yielding (ms). */
export const SLICE_MS = 2;

/** Elements handled between two looks at the clock. */
const CHECK_EVERY = 1024;

/** Yields to the event loop once the current turn has run for `sliceMs`. */
export class Turn {
  private since = performance.now();

  /**
   * @param sliceMs how long a slice may hold the event loop
   * @param restMs how long to leave the loop to others between slices: 0 (the default) resumes
   *   after one turn of the loop; more leaves room for work that needs several turns, such as a
   *   fire (timer, claim, start), which otherwise waits a whole slice at each of its turns
   */
  constructor(
    private readonly sliceMs = SLICE_MS,
    private readonly restMs = 0,
  ) {}

  /** Resolves at once while the slice lasts, else after the event loop has had a turn. */
  async maybeYield(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    if (this.restMs > 0) await new Promise((resolve) => setTimeout(resolve, this.restMs));
    else await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/** Runs of this many elements are sorted in one call before they are merged. */
const RUN = 1024;

/**
 * Sorts `items` in place by `compare`, stably (as `Array.prototype.sort`), yielding through
 * `turn` between runs and inside merges: a bottom-up merge sort over runs of {@link RUN}
 * elements, each sorted by the engine. Same result as `items.sort(compare)`; Node has no
 * incremental sort and the npm ones are unmaintained, so it is these forty lines.
 */
export async function sortInSlices<T>(items: T[], compare: (a: T, b: T) => number, turn: Turn): Promise<T[]> {
  const n = items.length;
  if (n <= RUN) return items.sort(compare);
  for (let lo = 0; lo < n; lo += RUN) {
    const run = items.slice(lo, lo + RUN).sort(compare);
    for (let i = 0; i < run.length; i++) items[lo + i] = run[i] as T;
    await turn.maybeYield();
  }
  let from = items;
  let to: T[] = new Array<T>(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      let i = lo;
      let j = mid;
      let k = lo;
      while (k < hi) {
        // Left first on ties: stable.
        if (i < mid && (j >= hi || compare(from[i] as T, from[j] as T) <= 0)) to[k++] = from[i++] as T;
        else to[k++] = from[j++] as T;
        if ((k & (CHECK_EVERY - 1)) === 0) await turn.maybeYield();
      }
    }
    [from, to] = [to, from];
  }
  if (from !== items) for (let i = 0; i < n; i++) items[i] = from[i] as T;
  return items;
}

/** `items.map(fn)`, yielding through `turn` every {@link CHECK_EVERY} elements. */
export async function mapInSlices<T, U>(items: readonly T[], fn: (item: T) => U, turn: Turn): Promise<U[]> {
  const out = new Array<U>(items.length);
  for (let i = 0; i < items.length; i++) {
    out[i] = fn(items[i] as T);
    if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) await turn.maybeYield();
  }
  return out;
}
