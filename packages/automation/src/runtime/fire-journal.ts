/**
 * What earlier attempts of a fire already did. Core gives intent `i` of a fire the client order id
 * `clientOrderId(fireKey, i)` on every attempt, and the broker refuses a second order with the
 * same id, so re-submitting the same plan in the same order can never double an order. But a plan
 * recomputed on a retry may differ from the first attempt's (prices moved, the first attempt's
 * fills changed the positions), and then intent `i` would name another order. So a retried fire
 * first looks up which of its ids exist (in storage, then at the broker, which knows an order
 * whose record a crash kept from being written), and only re-submits when the new plan agrees
 * with every one it finds; otherwise it submits nothing and leaves the rest to the next fire.
 *
 * The same lookup counts the orders of fires that failed for good (a cap must include them).
 */

import {
  approvalIdOf,
  type Broker,
  type BrokerOrder,
  clientOrderId,
  Decimal,
  NotFoundError,
  type OrderIntentInput,
  type OrderRecord,
  type Scheduler,
} from "@tradecron/core";

/** An order an earlier attempt of a fire placed, by intent position. */
export interface PriorOrder {
  index: number;
  clientOrderId: string;
  symbol: string;
  side: "buy" | "sell";
  status: string;
  /** What it is worth against a cap: filled value, else its notional or qty x reference price; 0 when rejected or cancelled unfilled. */
  value: Decimal;
  /** The intent that submits it again at its position (returning it as it is, recording it if need be). */
  resubmit: OrderIntentInput;
}

const DEAD = new Set(["rejected", "canceled", "expired"]);

function intentValue(intent: unknown): Decimal {
  const i = (intent ?? {}) as {
    notional?: string;
    qty?: string;
    referencePrice?: string;
    limitPrice?: string;
  };
  if (i.notional !== undefined) return new Decimal(i.notional);
  const price = i.limitPrice ?? i.referencePrice;
  return i.qty !== undefined && price !== undefined ? new Decimal(i.qty).times(price) : new Decimal(0);
}

/**
 * What an order is worth against a cap: a live notional order its notional (the amount asked for;
 * the fill is that less the fractional-share rounding), else its fill, else (not yet filled) qty x
 * limit or reference price; an order that died unfilled is worth 0.
 */
export function capValue(
  status: string,
  filledQty: string,
  avgFillPrice: string | null,
  intent: unknown,
): Decimal {
  const dead = DEAD.has(status);
  const notional = (intent as { notional?: string } | null)?.notional;
  if (notional !== undefined && !dead) return new Decimal(notional);
  const filled = new Decimal(filledQty || 0);
  if (filled.gt(0) && avgFillPrice !== null) return filled.times(avgFillPrice);
  if (dead) return new Decimal(0);
  return intentValue(intent);
}

function fromRecord(index: number, r: OrderRecord): PriorOrder {
  return {
    index,
    clientOrderId: r.clientOrderId,
    symbol: r.symbol,
    side: r.side,
    status: r.status,
    value: capValue(r.status, r.filledQty, r.avgFillPrice, r.intent),
    resubmit: r.intent as unknown as OrderIntentInput,
  };
}

function fromBroker(index: number, o: BrokerOrder): PriorOrder {
  const intent = {
    notional: o.notional ?? undefined,
    qty: o.qty ?? undefined,
    limitPrice: o.limitPrice ?? undefined,
  };
  return {
    index,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    status: o.status,
    value: capValue(o.status, o.filledQty, o.filledAvgPrice, intent),
    resubmit: {
      symbol: o.symbol,
      side: o.side,
      ...(o.qty !== null ? { qty: o.qty } : { notional: o.notional as string }),
      type: o.type,
      timeInForce: o.timeInForce,
      ...(o.limitPrice !== null ? { limitPrice: o.limitPrice } : {}),
      ...(o.stopPrice !== null ? { stopPrice: o.stopPrice } : {}),
      ...(o.trailPercent !== null ? { trailPercent: o.trailPercent } : {}),
      ...(o.trailPrice !== null ? { trailPrice: o.trailPrice } : {}),
      extendedHours: o.extendedHours,
      rationale: "re-recorded: placed by an earlier attempt of this fire whose answer was lost",
    },
  };
}

async function storedOrder(scheduler: Scheduler, id: string): Promise<OrderRecord | null> {
  try {
    return await scheduler.getOrder(id);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/**
 * The orders placed by fire `fireKey` at intent positions 0..slots-1: from storage, else from the
 * broker (an order placed just before a crash may have no record yet). Throws when storage or the
 * broker cannot answer (the run is retried).
 */
export async function ordersOfFire(
  scheduler: Scheduler,
  broker: Broker | null,
  fireKey: string,
  slots: number,
): Promise<Map<number, PriorOrder>> {
  const found = new Map<number, PriorOrder>();
  for (let i = 0; i < slots; i++) {
    const id = clientOrderId(fireKey, i);
    const record = await storedOrder(scheduler, id);
    if (record) {
      found.set(i, fromRecord(i, record));
      continue;
    }
    const order = broker ? await broker.getOrder({ clientOrderId: id }) : null;
    if (order) found.set(i, fromBroker(i, order));
  }
  return found;
}

/** A proposal an earlier attempt of a fire made. */
export interface PriorProposal {
  index: number;
  approvalId: string;
  symbol: string;
  side: "buy" | "sell";
  status: string;
  /** Its intent's value: notional, or qty x limit or reference price. */
  value: Decimal;
}

/** The approvals proposed by fire `fireKey` at intent positions 0..slots-1 (proposals are always stored). */
export async function proposalsOfFire(
  scheduler: Scheduler,
  fireKey: string,
  slots: number,
): Promise<Map<number, PriorProposal>> {
  const found = new Map<number, PriorProposal>();
  for (let i = 0; i < slots; i++) {
    const approvalId = approvalIdOf(clientOrderId(fireKey, i));
    try {
      const a = await scheduler.getApproval(approvalId);
      const intent = a.intent as { symbol?: string; side?: "buy" | "sell" };
      found.set(i, {
        index: i,
        approvalId,
        symbol: intent.symbol ?? "",
        side: intent.side ?? "buy",
        status: a.status,
        value: intentValue(a.intent),
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return found;
}

/** Whether a plan can be (re-)submitted over what earlier attempts placed. */
export type ReplayVerdict = { ok: true; placed: number } | { ok: false; reason: string };

/**
 * A plan may be submitted (again) when every intent position an earlier attempt used holds the
 * same symbol and side in the new plan, and no earlier order sits past the new plan's end: then
 * the already-placed ones come back as they are and only the missing ones are new.
 */
export function replayVerdict(
  planned: readonly { symbol: string; side: "buy" | "sell" }[],
  prior: ReadonlyMap<number, { symbol: string; side: "buy" | "sell" }>,
): ReplayVerdict {
  for (const [index, p] of prior) {
    const mine = planned[index];
    if (!mine) {
      return {
        ok: false,
        reason: `an earlier attempt placed ${p.side} ${p.symbol} at position ${index}, past the new plan`,
      };
    }
    if (mine.symbol !== p.symbol || mine.side !== p.side) {
      return {
        ok: false,
        reason: `an earlier attempt placed ${p.side} ${p.symbol} at position ${index}, the new plan has ${mine.side} ${mine.symbol}`,
      };
    }
  }
  return { ok: true, placed: prior.size };
}
