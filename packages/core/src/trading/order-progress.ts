/**
 * Which of two reports of one order says more: the rule that keeps an order's status from moving
 * backwards. Brokers' update streams arrive out of order, twice, or replayed after a reconnect,
 * and a broker's timestamps cannot be compared with ours; an order's own progress can. It only
 * moves forward: fills never shrink, and a final status (filled, canceled, ...) never changes.
 */

import { type BrokerOrderStatus, FINAL_ORDER_STATUSES } from "../broker/broker.js";
import { Decimal } from "../orders/decimal.js";

/** The parts of an order (a broker's report or a stored record) that say how far it got. */
export interface OrderProgress {
  status: string;
  filledQty: string;
}

/** Statuses an order can still leave: the ones worth re-reading from the broker. */
export const OPEN_ORDER_STATUSES: readonly BrokerOrderStatus[] = [
  "pending_new",
  "new",
  "accepted",
  "partially_filled",
  "pending_cancel",
  "done_for_day",
];

/** Order of the open statuses (equal stages may follow each other either way). */
const STAGE: Record<string, number> = {
  pending_new: 0,
  new: 1,
  accepted: 1,
  partially_filled: 2,
  pending_cancel: 2,
  done_for_day: 2,
};

/** True for a status after which an order never changes. */
export function isFinalStatus(status: string): boolean {
  return (FINAL_ORDER_STATUSES as readonly string[]).includes(status);
}

const filled = (p: OrderProgress) => new Decimal(p.filledQty || 0);

/**
 * True when `next` may replace `current`: `current` is open and `next` is final, has filled more,
 * or has filled as much at the same or a later stage. A final `current` only takes a report of
 * the same status with more filled (a cancel answered before the stream told of a partial fill).
 */
export function advances(current: OrderProgress, next: OrderProgress): boolean {
  const more = filled(next).cmp(filled(current));
  if (isFinalStatus(current.status)) return next.status === current.status && more > 0;
  if (isFinalStatus(next.status)) return true;
  if (more !== 0) return more > 0;
  return (STAGE[next.status] ?? 1) >= (STAGE[current.status] ?? 1);
}
