/**
 * Holding the Node process open on purpose. tradecron's timers are unref'd (a library must not
 * keep a process alive by accident), so a started scheduler holds the event loop with one ref'd
 * handle instead, as croner and node-cron do: a script that creates a scheduler and starts it
 * keeps running until `stop()`. `stop()` holds it too while it waits, so `await scheduler.stop()`
 * at the top level of a module always resolves instead of ending the process with exit code 13.
 */

/** One long, idle interval: cheap, and the only thing that keeps the loop alive. */
const IDLE_MS = 2_147_483_647;

/** Holds the process open while any reason is held. */
export class KeepAlive {
  private handle: ReturnType<typeof setInterval> | null = null;
  private readonly reasons = new Set<string>();

  /** Holds the process open for `reason` (idempotent per reason). */
  hold(reason: string): void {
    this.reasons.add(reason);
    this.handle ??= setInterval(() => {}, IDLE_MS);
  }

  /** Lets go of `reason`; the process may exit once no reason is held. */
  release(reason: string): void {
    this.reasons.delete(reason);
    if (this.reasons.size === 0 && this.handle !== null) {
      clearInterval(this.handle);
      this.handle = null;
    }
  }

  /** True while the process is held. */
  get holding(): boolean {
    return this.handle !== null;
  }
}
