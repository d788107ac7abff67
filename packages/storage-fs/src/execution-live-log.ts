/**
 * The live execution log, `log-<n>.jsonl`: every change since the last seal, one JSON line each
 * (`{"op":"put","rec":{...}}` or `{"op":"del","id":"..."}`), appended with group commit
 * (append-log.ts). This is the hot path: a claim or a completion is one line and shares its
 * fdatasync with concurrent writes.
 */

import type { AppendLog } from "./append-log.js";
import { storageError } from "./errors.js";
import type { ExecutionMemory } from "./execution-memory.js";

/** Appends to the live log and waits for its commits. */
export class LiveLog {
  /** Set by close: every later call throws `STORAGE`, and no new background work starts. */
  closed = false;

  /**
   * @param appended called after every append (the seal threshold check), synchronously, before
   *   the append's commit is awaited
   */
  constructor(
    private readonly dir: string,
    private readonly memory: ExecutionMemory,
    private readonly appended: () => void,
  ) {}

  /** The log being appended to; throws `STORAGE` once the store is closed. */
  live(): AppendLog {
    if (this.closed || !this.memory.tail.log) {
      throw storageError("STORAGE", `the executions of ${this.dir} are closed`, this.dir);
    }
    return this.memory.tail.log;
  }

  /** Appends lines to the live log; resolves when they are durable. */
  write(lines: string[]): Promise<void> {
    const log = this.live();
    let seq = 0;
    for (const line of lines) seq = log.append(line);
    const durable = log.durable(seq);
    this.appended();
    return durable;
  }

  /**
   * Appends retention's `del` lines for `ids`; resolves when they are durable. They are counted
   * apart (Memtable.dels), as an eighth of a line each towards the seal threshold.
   */
  writeDeletes(ids: readonly string[]): Promise<void> {
    this.memory.tail.dels += ids.length;
    // The same line as JSON.stringify({ op: "del", id }), without an object per id.
    return this.write(ids.map((id) => `{"op":"del","id":${JSON.stringify(id)}}`));
  }

  /**
   * Resolves once everything appended so far is durable: a read never reports state that a
   * crash could still take back (it waits for the group commit in flight, if any).
   */
  settled(): Promise<void> | undefined {
    const { tail, sealing } = this.memory;
    const a = tail.log && !tail.log.idle ? tail.log.drain() : undefined;
    const b = sealing?.log && !sealing.log.idle ? sealing.log.drain() : undefined;
    if (a && b) return Promise.all([a, b]).then(() => {});
    return a ?? b;
  }

  /** Refuses every later call and closes the live log (its pending lines are committed first). */
  close(): Promise<void> | undefined {
    this.closed = true;
    return this.memory.tail.log?.close();
  }
}
