/**
 * Coalesces calls made in the same turn of the event loop into one batch. When many fires come due
 * at one instant the scheduler claims, checks and finishes each of them separately; sending each as
 * its own statement costs one round trip (and, for writes, one commit) per fire. Batched, 10,000
 * claims become a few dozen statements. Under light load a batch holds one call and waits for
 * nothing but the current turn to end (`setImmediate`).
 */

/** Runs a batch; returns one result or Error per request, in order. */
export type BatchRunner<Req, Res> = (batch: Req[]) => Promise<(Res | Error)[]>;

interface Pending<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: Error) => void;
}

/** Collects requests and hands them to a runner in batches of at most `maxBatch`. */
export class Batcher<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private scheduled = false;

  constructor(
    private readonly runner: BatchRunner<Req, Res>,
    private readonly maxBatch = 500,
    /**
     * Optional: reorders everything queued at a flush before it is cut into batches (the claim
     * batcher sorts fires by key and starts at an instance-specific place, see PostgresStorage).
     */
    private readonly arrange?: (queued: Req[]) => number[],
  ) {}

  /** Queues one request; settles with its own result. */
  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Number of requests waiting for the next flush. */
  get pending(): number {
    return this.queue.length;
  }

  private flush(): void {
    this.scheduled = false;
    let queued = this.queue;
    this.queue = [];
    if (this.arrange && queued.length > 1) {
      const order = this.arrange(queued.map((p) => p.request));
      queued = order.map((i) => queued[i] as Pending<Req, Res>);
    }
    for (let i = 0; i < queued.length; i += this.maxBatch) void this.run(queued.slice(i, i + this.maxBatch));
  }

  private async run(batch: Pending<Req, Res>[]): Promise<void> {
    let results: (Res | Error)[];
    try {
      results = await this.runner(batch.map((p) => p.request));
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (r instanceof Error) p.reject(r);
      else p.resolve(r as Res);
    });
  }
}
