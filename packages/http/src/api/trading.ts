/** Orders, the audit log, and the broker's account and positions (when a broker is configured). */

import { type Broker, type Scheduler, TradecronError } from "@tradecron/core";
import { z } from "zod";
import { auditDto, orderDto } from "../dto.js";
import { pageSchema } from "../schemas/common.js";
import { accountSchema, auditEntrySchema, orderSchema, positionSchema } from "../schemas/records.js";
import { auditListQuery, orderListQuery, orderParams } from "../schemas/requests.js";
import { type AnyRoute, ok, route } from "./route.js";

const orderPage = pageSchema(orderSchema, "OrderPage");
const auditPage = pageSchema(auditEntrySchema, "AuditPage");
const positions = z.object({ broker: z.string(), items: z.array(positionSchema) }).meta({ id: "Positions" });

function brokerOf(scheduler: Scheduler): Broker {
  const broker = scheduler.broker;
  if (!broker) throw new TradecronError("BROKER_NOT_CONFIGURED", "no broker is configured on this scheduler");
  return broker;
}

/** The trading routes. */
export const tradingRoutes: AnyRoute[] = [
  route({
    id: "listOrders",
    method: "get",
    path: "/orders",
    tag: "orders",
    summary: "Orders placed through the scheduler, newest first",
    role: "viewer",
    query: orderListQuery,
    responses: { 200: { description: "A page of orders", schema: orderPage } },
    async handle({ query }, deps) {
      const page = await deps.scheduler.listOrders({ ...query, limit: query.limit ?? 50 });
      return ok({ items: page.items.map(orderDto), nextCursor: page.nextCursor });
    },
  }),
  route({
    id: "getOrder",
    method: "get",
    path: "/orders/{clientOrderId}",
    tag: "orders",
    summary: "One order by its client order id",
    role: "viewer",
    params: orderParams,
    responses: { 200: { description: "The order", schema: orderSchema } },
    async handle({ params }, deps) {
      return ok(orderDto(await deps.scheduler.getOrder(params.clientOrderId)));
    },
  }),
  route({
    id: "listAudit",
    method: "get",
    path: "/audit",
    tag: "audit",
    summary: "The audit log, newest first: who did what, when and why",
    role: "viewer",
    query: auditListQuery,
    responses: { 200: { description: "A page of audit entries", schema: auditPage } },
    async handle({ query }, deps) {
      const page = await deps.scheduler.listAudit({ ...query, limit: query.limit ?? 50 });
      return ok({ items: page.items.map(auditDto), nextCursor: page.nextCursor });
    },
  }),
  route({
    id: "getAccount",
    method: "get",
    path: "/broker/account",
    tag: "broker",
    summary: "The broker account (404 BROKER_NOT_CONFIGURED without a broker)",
    role: "viewer",
    responses: { 200: { description: "The account", schema: accountSchema } },
    async handle(_req, deps) {
      const broker = brokerOf(deps.scheduler);
      const account = await broker.getAccount();
      return ok({
        broker: broker.name,
        connected: broker.isConnected(),
        id: account.id,
        currency: account.currency,
        cash: account.cash,
        buyingPower: account.buyingPower,
        equity: account.equity,
        status: account.status,
      });
    },
  }),
  route({
    id: "listPositions",
    method: "get",
    path: "/broker/positions",
    tag: "broker",
    summary: "Open positions at the broker",
    role: "viewer",
    responses: { 200: { description: "The positions", schema: positions } },
    async handle(_req, deps) {
      const broker = brokerOf(deps.scheduler);
      const items = await broker.getPositions();
      return ok({
        broker: broker.name,
        items: items.map((p) => ({
          symbol: p.symbol,
          qty: p.qty,
          side: p.side,
          avgEntryPrice: p.avgEntryPrice,
          marketValue: p.marketValue,
        })),
      });
    },
  }),
];
