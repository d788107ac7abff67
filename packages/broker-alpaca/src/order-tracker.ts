/**
 * The latest known state of each order, from every source (submit answers, REST reads, stream
 * events, reconciliation), with the rules that keep pushed updates trustworthy:
 *
 * - an event whose `execution_id` was seen already is a duplicate and is dropped;
 * - an order state older than the one known is stale and is dropped: a final status never
 *   changes again, the filled quantity never shrinks, and Alpaca's `updated_at` never goes back
 *   (a tie is broken by how far along the status is). So events that arrive out of order, or a
 *   REST read that races an event, cannot move an order backwards.
 *
 * The states offered are the ones pushed to listeners (stream events, reconciliation). Orders
 * seen only through reads (a submit's answer, a lookup) are merely watched: recording their state
 * would make the stream event that reports the same change look stale, and listeners would never
 * hear of it. Orders known or watched and not yet final are re-read by reconciliation.
 */

import { type BrokerOrder, type BrokerOrderStatus, Decimal, FINAL_ORDER_STATUSES } from "@tradecron/core";

/** How far along a status is; later states rank higher. */
const RANK: Record<BrokerOrderStatus, number> = {
  pending_new: 0,
  accepted: 1,
  new: 2,
  partially_filled: 3,
  pending_cancel: 4,
  done_for_day: 4,
  filled: 9,
  canceled: 9,
  expired: 9,
  rejected: 9,
  replaced: 9,
};

interface Known {
  order: BrokerOrder;
  version: bigint;
}

/** Counters of what the tracker dropped. */
export interface TrackerStats {
  duplicatesDropped: number;
  staleDropped: number;
}

/** Latest order states and seen execution ids, both bounded. */
export class OrderTracker {
  private readonly known = new Map<string, Known>();
  private readonly executions = new Set<string>();
  private readonly watched = new Set<string>();
  readonly stats: TrackerStats = { duplicatesDropped: 0, staleDropped: 0 };

  constructor(
    private readonly capacity = 50_000,
    private readonly executionCapacity = 20_000,
  ) {}

  /** Records an execution id; false (and counted) when it was seen already. */
  firstSighting(executionId: string | null | undefined): boolean {
    if (!executionId) return true;
    if (this.executions.has(executionId)) {
      this.stats.duplicatesDropped++;
      return false;
    }
    this.executions.add(executionId);
    if (this.executions.size > this.executionCapacity) {
      const oldest = this.executions.values().next().value;
      if (oldest !== undefined) this.executions.delete(oldest);
    }
    return true;
  }

  /**
   * Offers a state of an order. Returns the state now known: `order` itself when it moved the
   * order forward (`advanced`), else the newer state already known.
   */
  offer(order: BrokerOrder, version: bigint): { advanced: boolean; order: BrokerOrder } {
    const current = this.known.get(order.id);
    if (current && !isNewer(order, version, current)) {
      this.stats.staleDropped++;
      return { advanced: false, order: current.order };
    }
    this.known.delete(order.id);
    this.known.set(order.id, { order, version });
    this.watched.delete(order.id);
    this.evict();
    return { advanced: true, order };
  }

  /** The latest known state of order `id`, if any. */
  latest(id: string): BrokerOrder | undefined {
    return this.known.get(id)?.order;
  }

  /** Remembers an order seen through a read, so reconciliation re-reads it until it is final. */
  watch(order: BrokerOrder): void {
    if (this.known.has(order.id) || FINAL_ORDER_STATUSES.includes(order.status)) return;
    this.watched.add(order.id);
    if (this.watched.size > this.capacity) {
      const oldest = this.watched.values().next().value;
      if (oldest !== undefined) this.watched.delete(oldest);
    }
  }

  /** Stops re-reading an order (Alpaca no longer knows it). */
  forget(id: string): void {
    this.watched.delete(id);
    this.known.delete(id);
  }

  /** `order` (read at `version`), or the state pushed already when that one is newer. */
  freshest(order: BrokerOrder, version: bigint): BrokerOrder {
    const current = this.known.get(order.id);
    if (!current) return order;
    return isNewer(current.order, current.version, { order, version }) ? current.order : order;
  }

  /** Ids of the orders known or watched and not final, oldest first. */
  open(): string[] {
    const ids = new Set<string>();
    for (const [id, k] of this.known) if (!FINAL_ORDER_STATUSES.includes(k.order.status)) ids.add(id);
    for (const id of this.watched) if (!this.known.has(id)) ids.add(id);
    return [...ids];
  }

  /** Drops final orders first, oldest first, when over capacity. */
  private evict(): void {
    if (this.known.size <= this.capacity) return;
    for (const [id, k] of this.known) {
      if (this.known.size <= this.capacity) return;
      if (FINAL_ORDER_STATUSES.includes(k.order.status)) this.known.delete(id);
    }
    while (this.known.size > this.capacity) {
      const oldest = this.known.keys().next().value;
      if (oldest === undefined) return;
      this.known.delete(oldest);
    }
  }
}

/**
 * True when `order` at `version` carries news over `current`. Alpaca's `updated_at` decides when
 * both are known and differ (a rejected cancel may legitimately move `pending_cancel` back to
 * `new`); otherwise the status rank does.
 */
function isNewer(order: BrokerOrder, version: bigint, current: Known): boolean {
  const was = current.order;
  if (FINAL_ORDER_STATUSES.includes(was.status)) return false;
  const filled = new Decimal(order.filledQty).cmp(was.filledQty);
  if (filled < 0) return false;
  if (version !== 0n && current.version !== 0n && version !== current.version) {
    return version > current.version && (filled > 0 || !sameState(order, was));
  }
  if (filled > 0) return true;
  return RANK[order.status] > RANK[was.status];
}

function sameState(a: BrokerOrder, b: BrokerOrder): boolean {
  return (
    a.status === b.status &&
    a.filledQty === b.filledQty &&
    a.filledAvgPrice === b.filledAvgPrice &&
    a.limitPrice === b.limitPrice &&
    a.stopPrice === b.stopPrice &&
    a.legs.length === b.legs.length
  );
}
