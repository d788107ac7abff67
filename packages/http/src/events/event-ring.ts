/**
 * A bounded ring of the latest events, so a client that reconnects with `Last-Event-ID` gets
 * what it missed. Ids are `<epoch>-<seq>`: the epoch changes with every router, so an id from a
 * previous process (or another instance) is recognised as unknown, not misread.
 */

/** One event as kept: its id, sequence number and the SSE frame already serialised. */
export interface RingEntry {
  id: string;
  seq: number;
  frame: string;
}

/** Fixed-capacity buffer of the latest entries. */
export class EventRing {
  private readonly entries: (RingEntry | undefined)[];
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly epoch: string,
  ) {
    this.entries = new Array(capacity);
  }

  /** Appends an entry, dropping the oldest when full. */
  push(entry: RingEntry): void {
    if (this.capacity === 0) return;
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /**
   * The entries after the one with id `lastId`, oldest first; null when that id is unknown (from
   * another epoch, malformed, or older than what the ring holds), so the client must reload.
   */
  since(lastId: string): RingEntry[] | null {
    const dash = lastId.lastIndexOf("-");
    if (dash <= 0 || lastId.slice(0, dash) !== this.epoch) return null;
    const seqText = lastId.slice(dash + 1);
    if (!/^\d{1,15}$/.test(seqText)) return null;
    const seq = Number(seqText);
    const all = this.toArray();
    const newest = all[all.length - 1];
    if (newest === undefined) return seq === 0 ? [] : null;
    if (seq > newest.seq) return null;
    const oldest = all[0] as RingEntry;
    // The client saw `seq`; we can resume only if we still hold seq + 1 (or nothing came since).
    if (seq < oldest.seq - 1) return null;
    return all.filter((e) => e.seq > seq);
  }

  /** Entries oldest first. */
  toArray(): RingEntry[] {
    const out: RingEntry[] = [];
    for (let i = 0; i < this.count; i++) {
      const e = this.entries[(this.next - this.count + i + this.capacity) % this.capacity];
      if (e) out.push(e);
    }
    return out;
  }
}
