/** The decision facts of a proposal or group: the time left while it waits, who decided after. */

import type { Approval } from "../api.js";
import { relative } from "../format.js";
import { now } from "../state.js";
import { Time } from "./bits.js";

/** Under this much time left the expiry is shown as a warning: act now or lose the proposal. */
const WARN_BEFORE_MS = 15 * 60_000;

/** Options of {@link DecisionFacts}. */
export interface DecisionFactsProps {
  /** The proposal whose expiry and decision are shown (for a group: its first member). */
  approval: Approval;
  /** Whether it still waits for a decision (for a group: every member does). */
  pending: boolean;
}

/**
 * The `Expires` entry while pending (a warning in its last 15 minutes), else the `Decided` entry
 * with who, when and the reason given: a fragment of `dt`/`dd` pairs for a `<dl class="facts">`.
 */
export function DecisionFacts({ approval: a, pending }: DecisionFactsProps) {
  if (pending) {
    const left = Date.parse(a.expiresAt) - now.value;
    return (
      <>
        <dt>Expires</dt>
        <dd class={left < WARN_BEFORE_MS ? "warn-text" : ""}>
          {left > 0 ? `${relative(a.expiresAt, now.value).replace(/^in /, "")} left` : "expiring"}
        </dd>
      </>
    );
  }
  return (
    <>
      <dt>Decided</dt>
      <dd>
        {a.decidedBy ?? "—"} <Time iso={a.decidedAt} />
        {a.decisionReason ? ` — “${a.decisionReason}”` : ""}
      </dd>
    </>
  );
}
