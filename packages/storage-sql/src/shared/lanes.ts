/**
 * Priority lanes in front of a connection pool. pg's pool serves waiting queries first come, first
 * served; in a burst of due fires that puts the quick query that lets a handler start (the overlap
 * check) behind every claim batch of the burst, and a lease renewal behind thousands of outcome
 * writes. The lanes keep at most `limit` queries in flight (the pool size) and start the most
 * urgent waiting one whenever one finishes.
 */

/** Query priorities, most urgent first. */
export const Lane = {
  /** Lease renewal, takeover, and the reads that let a claimed fire start its handler. */
  Urgent: 0,
  /** Claims and everything else. */
  Normal: 1,
  /** Outcome writes: they decide no start time, only when a burst is fully recorded. */
  Background: 2,
} as const;

/** One of {@link Lane}. */
export type Lane = (typeof Lane)[keyof typeof Lane];

/** A lane waits at most this long behind more urgent ones before it is served anyway (no starvation). */
export const MAX_LANE_WAIT_MS = 250;

interface Waiting {
  start: () => void;
  since: number;
}

/** Runs tasks at most `limit` at a time, most urgent lane first, in order within a lane. */
export class Lanes {
  private running = 0;
  private readonly queues: Waiting[][] = [[], [], []];

  constructor(private readonly limit: number) {}

  /** Runs `task` when a slot is free and nothing more urgent waits. */
  run<T>(lane: Lane, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.next();
          });
      };
      if (this.running < this.limit) start();
      else (this.queues[lane] as Waiting[]).push({ start, since: Date.now() });
    });
  }

  private next(): void {
    const now = Date.now();
    // A less urgent task that has waited too long goes first; otherwise the most urgent one.
    let pick: Waiting[] | undefined;
    for (const queue of this.queues) {
      const head = queue[0];
      if (head && now - head.since > MAX_LANE_WAIT_MS && (!pick || head.since < (pick[0] as Waiting).since)) {
        pick = queue;
      }
    }
    pick ??= this.queues.find((queue) => queue.length > 0);
    pick?.shift()?.start();
  }
}
