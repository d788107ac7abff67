/**
 * Alpaca's wire format as the adapter reads it: zod schemas of the responses and stream frames,
 * lenient where Alpaca is (unknown keys are kept, most fields may be null or absent), so a new
 * field on Alpaca's side never breaks a running bot. Field names are Alpaca's snake_case.
 */

import { z } from "zod";

const str = z.string();
const optionalText = z.string().nullable().optional();

/** An order as Alpaca returns it (legs nested with `nested=true`). */
export interface AlpacaOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at?: string | null;
  submitted_at?: string | null;
  symbol: string;
  side: string;
  type?: string | null;
  order_type?: string | null;
  time_in_force: string;
  qty?: string | null;
  notional?: string | null;
  filled_qty?: string | null;
  filled_avg_price?: string | null;
  limit_price?: string | null;
  stop_price?: string | null;
  trail_percent?: string | null;
  trail_price?: string | null;
  extended_hours?: boolean | null;
  status: string;
  order_class?: string | null;
  legs?: AlpacaOrder[] | null;
}

export const alpacaOrderSchema: z.ZodType<AlpacaOrder> = z.lazy(() =>
  z.looseObject({
    id: str.min(1),
    client_order_id: str,
    created_at: str,
    updated_at: optionalText,
    submitted_at: optionalText,
    symbol: str.default(""),
    side: str.default(""),
    type: optionalText,
    order_type: optionalText,
    time_in_force: str,
    qty: optionalText,
    notional: optionalText,
    filled_qty: optionalText,
    filled_avg_price: optionalText,
    limit_price: optionalText,
    stop_price: optionalText,
    trail_percent: optionalText,
    trail_price: optionalText,
    extended_hours: z.boolean().nullable().optional(),
    status: str,
    order_class: optionalText,
    legs: z.array(alpacaOrderSchema).nullable().optional(),
  }),
);

export const alpacaAccountSchema = z.looseObject({
  id: str.min(1),
  status: str,
  currency: str.nullable().optional(),
  cash: optionalText,
  buying_power: optionalText,
  equity: optionalText,
});
export type AlpacaAccount = z.output<typeof alpacaAccountSchema>;

export const alpacaPositionSchema = z.looseObject({
  symbol: str,
  qty: str,
  side: z.enum(["long", "short"]),
  avg_entry_price: str,
  market_value: optionalText,
});
export type AlpacaPosition = z.output<typeof alpacaPositionSchema>;

export const alpacaClockSchema = z.looseObject({
  timestamp: str,
  is_open: z.boolean(),
  next_open: str,
  next_close: str,
});

export const alpacaCalendarDaySchema = z.looseObject({
  date: str.regex(/^\d{4}-\d{2}-\d{2}$/),
  open: str.regex(/^\d{2}:\d{2}$/),
  close: str.regex(/^\d{2}:\d{2}$/),
});
export type AlpacaCalendarDay = z.output<typeof alpacaCalendarDaySchema>;

/** One entry of `DELETE /v2/orders`'s multi-status answer. */
export const cancelStatusSchema = z.looseObject({
  id: str,
  status: z.number(),
  body: z.unknown().optional(),
});

/** A `trade_updates` event. */
export const tradeUpdateSchema = z.looseObject({
  event: str,
  execution_id: str.nullable().optional(),
  timestamp: str.nullable().optional(),
  order: z.unknown(),
});

/** A stream frame: authorization, listening, trade_updates, or an error. */
export const streamFrameSchema = z.looseObject({
  stream: str.optional(),
  action: str.optional(),
  data: z.unknown().optional(),
});

/** `GET /v2/stocks/{symbol}/trades/latest` from the market data API. */
export const latestTradeSchema = z.looseObject({
  trade: z
    .looseObject({ p: z.union([z.number(), z.string()]), t: str.optional() })
    .nullable()
    .optional(),
});
