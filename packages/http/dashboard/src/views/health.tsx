/** Health and status: the verdict with reasons, counters, and every schedule's last and next fire. */

import { api } from "../api.js";
import { ErrorText, Heading, Pill, Time } from "../components/bits.js";
import { useLoad } from "../components/use-load.js";
import { status } from "../state.js";

/** The health page. */
export function Health() {
  const s = status.value;
  const health = useLoad(
    () =>
      api
        .GET("/health")
        .then((r) => (r.data ?? (r.error as never)) as { status: string; reasons?: string[] }),
    [s?.heartbeatAt, s?.pausedAll],
  );
  return (
    <section>
      <Heading>Health</Heading>
      <ErrorText error={health.error} />
      {health.data ? (
        <div class="card">
          <p>
            Verdict: <Pill value={health.data.status} />
          </p>
          {health.data.reasons && health.data.reasons.length > 0 ? (
            <ul>
              {health.data.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {s ? (
        <>
          <dl class="facts card">
            <dt>State</dt>
            <dd>{s.state}</dd>
            <dt>Instance</dt>
            <dd>{s.instanceId}</dd>
            <dt>Storage</dt>
            <dd>{s.storage}</dd>
            <dt>Broker</dt>
            <dd>
              {s.broker ? `${s.broker.name} (${s.broker.connected ? "connected" : "disconnected"})` : "none"}
            </dd>
            <dt>Started</dt>
            <dd>
              <Time iso={s.startedAt} />
            </dd>
            <dt>Heartbeat</dt>
            <dd>
              <Time iso={s.heartbeatAt} />
            </dd>
            <dt>Counters</dt>
            <dd>
              {Object.entries(s.counters)
                .map(([k, v]) => `${k} ${v}`)
                .join(" · ")}
            </dd>
          </dl>
          <table aria-label="Schedules on this instance">
            <thead>
              <tr>
                <th scope="col">Schedule</th>
                <th scope="col">Last start</th>
                <th scope="col">Last status</th>
                <th scope="col">Last success</th>
                <th scope="col">Next fire</th>
              </tr>
            </thead>
            <tbody>
              {s.schedules.map((x) => (
                <tr key={x.id}>
                  <td>{x.name}</td>
                  <td>
                    <Time iso={x.lastStartAt} />
                  </td>
                  <td>
                    <Pill value={x.lastStatus} />
                  </td>
                  <td>
                    <Time iso={x.lastSuccessAt} />
                  </td>
                  <td>
                    <Time iso={x.nextFireAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
