/** Orders placed through the scheduler, the broker's positions and account, and the audit log. */

import { api, type Order, unwrap } from "../api.js";
import { ErrorText, Heading, Json, Pill, Time } from "../components/bits.js";
import { useLoad } from "../components/use-load.js";
import { href } from "../router.js";
import { ticks } from "../state.js";

/** A table of orders. */
export function OrderTable({ orders }: { orders: Order[] }) {
  if (orders.length === 0) return <p class="muted">No orders.</p>;
  return (
    <table aria-label="Orders">
      <thead>
        <tr>
          <th scope="col">Submitted</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col">Status</th>
          <th scope="col">Filled</th>
          <th scope="col">Avg price</th>
          <th scope="col">Schedule</th>
          <th scope="col">Client order id</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={o.clientOrderId} data-order={o.clientOrderId}>
            <td>
              <Time iso={o.submittedAt} />
            </td>
            <td>{o.symbol}</td>
            <td>{o.side}</td>
            <td>
              <Pill value={o.status} />
            </td>
            <td>{o.filledQty}</td>
            <td>{o.avgFillPrice ?? "—"}</td>
            <td>{o.scheduleId ?? "—"}</td>
            <td>
              <code>{o.clientOrderId}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The orders page. */
export function Orders() {
  const list = useLoad(
    () => api.GET("/orders", { params: { query: { limit: "200" } } }).then(unwrap),
    [ticks.orders.value],
  );
  return (
    <section>
      <Heading>Orders</Heading>
      <ErrorText error={list.error} />
      <OrderTable orders={list.data?.items ?? []} />
    </section>
  );
}

/** The broker's account and positions. */
export function Positions() {
  const account = useLoad(() => api.GET("/broker/account").then(unwrap), [ticks.orders.value]);
  const positions = useLoad(() => api.GET("/broker/positions").then(unwrap), [ticks.orders.value]);
  const a = account.data;
  return (
    <section>
      <Heading>Positions</Heading>
      <ErrorText error={account.error} />
      {a ? (
        <dl class="facts card">
          <dt>Broker</dt>
          <dd>
            {a.broker} <Pill value={a.connected ? "connected" : "disconnected"} />
          </dd>
          <dt>Account</dt>
          <dd>
            {a.id} ({a.status})
          </dd>
          <dt>Cash</dt>
          <dd>
            {a.cash} {a.currency}
          </dd>
          <dt>Buying power</dt>
          <dd>{a.buyingPower}</dd>
          <dt>Equity</dt>
          <dd>{a.equity}</dd>
        </dl>
      ) : null}
      <ErrorText error={positions.error} />
      {positions.data && positions.data.items.length === 0 ? <p class="muted">No open positions.</p> : null}
      {positions.data && positions.data.items.length > 0 ? (
        <table aria-label="Positions">
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col">Side</th>
              <th scope="col">Quantity</th>
              <th scope="col">Average entry</th>
              <th scope="col">Market value</th>
            </tr>
          </thead>
          <tbody>
            {positions.data.items.map((p) => (
              <tr key={p.symbol}>
                <td>{p.symbol}</td>
                <td>{p.side}</td>
                <td>{p.qty}</td>
                <td>{p.avgEntryPrice}</td>
                <td>{p.marketValue ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

/** The audit log. */
export function Audit() {
  const list = useLoad(
    () => api.GET("/audit", { params: { query: { limit: "200" } } }).then(unwrap),
    [ticks.audit.value],
  );
  return (
    <section>
      <Heading>Audit log</Heading>
      <ErrorText error={list.error} />
      <table aria-label="Audit log">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Subject</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((a) => (
            <tr key={a.seq}>
              <td>
                <Time iso={a.at} />
              </td>
              <td>{a.actor}</td>
              <td>{a.action}</td>
              <td>
                {a.subjectType === "schedule" && a.subjectId ? (
                  <a href={href(`/schedules/${encodeURIComponent(a.subjectId)}`)}>{a.subjectId}</a>
                ) : (
                  `${a.subjectType}${a.subjectId ? ` ${a.subjectId}` : ""}`
                )}
              </td>
              <td>{a.details === null ? "" : <Json value={a.details} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
