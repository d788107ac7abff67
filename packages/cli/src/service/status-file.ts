/**
 * The status file: the snapshot as JSON, rewritten atomically (write-file-atomic: a temp file in
 * the same folder, fsync, rename), so a reader sees the old file or the new one, never half of
 * one. Rewritten after every run event (coalesced: at most one write in flight and one queued) and
 * at least every `intervalMs` as a heartbeat. A failed write is logged and retried on the next
 * tick; it never stops the scheduler.
 */

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "@tradecron/core";
import writeFileAtomic from "write-file-atomic";

/** Keeps one JSON file current. */
export class StatusFile {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private queued = false;
  private failedOnce = false;

  constructor(
    readonly path: string,
    private readonly snapshot: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly intervalMs = 5000,
  ) {}

  /** Writes now and then every interval. */
  async start(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.timer = setInterval(() => this.request(), this.intervalMs);
    this.timer.unref();
    this.request();
    await this.writing;
  }

  /** Asks for a write; calls while one is queued share it. */
  request(): void {
    if (this.queued) return;
    this.queued = true;
    this.writing = this.writing.then(async () => {
      this.queued = false;
      try {
        const data = await this.snapshot();
        await writeFileAtomic(this.path, `${JSON.stringify(data, null, 2)}\n`, { fsync: true });
        if (this.failedOnce) this.logger.info({ path: this.path }, "status file written again");
        this.failedOnce = false;
      } catch (error) {
        if (!this.failedOnce)
          this.logger.warn({ err: error, path: this.path }, "could not write the status file");
        this.failedOnce = true;
      }
    });
  }

  /** Stops the timer after a last write. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.request();
    await this.writing;
  }
}
