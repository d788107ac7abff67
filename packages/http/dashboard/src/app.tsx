/** The dashboard: sign-in, then the page the hash names, inside the common frame. */

import { useEffect } from "preact/hooks";
import { Layout } from "./components/layout.js";
import { connectLive } from "./live.js";
import { route } from "./router.js";
import { checkingSession, now, refreshOverview, session } from "./state.js";
import { Approvals } from "./views/approvals.js";
import { ExecutionDetail, Executions } from "./views/executions.js";
import { Health } from "./views/health.js";
import { Audit, Orders, Positions } from "./views/orders.js";
import { ScheduleDetail, Schedules } from "./views/schedules.js";
import { SignIn } from "./views/sign-in.js";

function Page() {
  const [area, id] = route.value.parts;
  switch (area) {
    case "executions":
      return id ? <ExecutionDetail id={id} /> : <Executions />;
    case "approvals":
      return <Approvals />;
    case "orders":
      return <Orders />;
    case "positions":
      return <Positions />;
    case "audit":
      return <Audit />;
    case "health":
      return <Health />;
    default:
      return id ? <ScheduleDetail id={id} /> : <Schedules />;
  }
}

/** The root component. */
export function App() {
  const signedIn = session.value !== null;
  useEffect(() => {
    if (!signedIn) return;
    connectLive();
    void refreshOverview();
    // A slow fallback: live events do the work; this catches what a proxy might swallow.
    const poll = window.setInterval(() => void refreshOverview(), 30_000);
    const tick = window.setInterval(() => {
      now.value = Date.now();
    }, 1000);
    return () => {
      window.clearInterval(poll);
      window.clearInterval(tick);
    };
  }, [signedIn]);
  if (checkingSession.value) return <p class="boot">Loading…</p>;
  if (!signedIn) return <SignIn />;
  return (
    <Layout>
      <Page />
    </Layout>
  );
}
