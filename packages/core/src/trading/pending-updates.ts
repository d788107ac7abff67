/**
 * Order updates that arrived before their order record: a fill pushed by the broker while submit
 * is still writing the record (a slow database), or before the broker's answer to the submit
 * itself. They wait here, bounded in number and time, until the record appears; without this, a
 * fill arriving in that window would be lost for good.
 */

import { z } from "zod";
import type { OrderUpdate } from "../broker/broker.js";
import type { Clock } from "../time/clock.js";
import { parseInput } from "../validation.js";
import { advances } from "./order-progress.js";

/** Bounds of the buffer. */
export interface PendingUpdatesOptions {
  /** Most orders with a waiting update; beyond it the oldest is evicted and reported (default 10,000). */
  maxEntries?: number;
  /** How long an update waits for its record, ms on the desk's clock (default 60,000). */
  ttlMs?: number;
}

/** zod schema of {@link PendingUpdatesOptions}, with the defaults. */
export const pendingUpdatesSchema = z.strictObject({
  maxEntries: z.int().min(1).max(1_000_000).default(10_000),
  ttlMs: z.number().positive().max(86_400_000).default(60_000),
});

/**
 * The most advanced waiting update per client order id, oldest first. An update that waited
 * longer than `ttlMs` is forgotten silently: its order is not one of ours (another app trading the
 * same account), or its record was written by another instance that applies it itself.
 */
export class PendingUpdates {
  private readonly entries = new Map<string, { update: OrderUpdate; at: number }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  /**
   * @param onEvicted told of each update evicted to keep the bound (it may have been ours).
   * @throws ValidationError naming a bad option.
   */
  constructor(
    private readonly clock: Clock,
    options: PendingUpdatesOptions,
    private readonly onEvicted: (update: OrderUpdate, maxEntries: number) => void,
  ) {
    const o = parseInput(pendingUpdatesSchema, options, "OrderDesk", "pendingUpdates");
    this.maxEntries = o.maxEntries;
    this.ttlMs = o.ttlMs;
  }

  /** Orders with a waiting update. */
  get size(): number {
    this.expire();
    return this.entries.size;
  }

  /** Keeps `update` (or the more advanced update already waiting for its order). */
  add(update: OrderUpdate): void {
    this.expire();
    const id = update.order.clientOrderId;
    const held = this.entries.get(id);
    const keep = held && !advances(held.update.order, update.order) ? held.update : update;
    // Re-inserted at the end: the map stays in order of the latest arrival, oldest first.
    this.entries.delete(id);
    this.entries.set(id, { update: keep, at: this.clock.now() });
    for (const [oldestId, oldest] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldestId);
      this.onEvicted(oldest.update, this.maxEntries);
    }
  }

  /** Removes and returns the update waiting for `clientOrderId`, if any. */
  take(clientOrderId: string): OrderUpdate | null {
    this.expire();
    const entry = this.entries.get(clientOrderId);
    if (!entry) return null;
    this.entries.delete(clientOrderId);
    return entry.update;
  }

  /** Client order ids with a waiting update, oldest first. */
  ids(): string[] {
    this.expire();
    return [...this.entries.keys()];
  }

  private expire(): void {
    const now = this.clock.now();
    for (const [id, entry] of this.entries) {
      if (now - entry.at < this.ttlMs) break;
      this.entries.delete(id);
    }
  }
}
