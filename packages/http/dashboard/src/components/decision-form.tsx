/**
 * The approve-or-reject form of the approval queue: a reason for the audit log and the two
 * buttons. It runs the decision the view gives it and tells the outcome in the page's notice;
 * the single proposals and the approval groups each say only what they decide and how.
 */

import { useSignal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import type { Schemas } from "../api.js";
import { refreshOverview, say } from "../state.js";

/** What a person decides on a proposal or a group. */
export type Decision = "approve" | "reject";

/** What a decision came to, for the notice. */
export interface DecisionOutcome {
  /** What was done, e.g. `2 approved` or `Group rejected (3 orders)`. */
  done: string;
  /** The proposals the decision did not take effect on; any of them makes the notice an error. */
  missed: Schemas["DecisionResult"][];
  /** What the notice calls the missed ones, e.g. `not decided`. */
  missedAs: string;
}

/** Options of {@link DecisionForm}. */
export interface DecisionFormProps {
  /** The fieldset's legend, for screen readers only. */
  legend: string;
  /** The id of the reason input (unique in the page). */
  reasonId: string;
  /** The visible label of the reason input. */
  reasonLabel: string;
  /** The text of the Approve button. */
  approveLabel: ComponentChildren;
  /** The text of the Reject button. */
  rejectLabel: ComponentChildren;
  /** Draws the fieldset as a card of its own (rather than inside one). */
  card?: boolean;
  /** False while there is nothing to decide: the buttons are disabled and do nothing. */
  ready?: boolean;
  /**
   * Sends the decision with the reason (trimmed; undefined when blank) and says what came of it.
   * A throw is shown as an error notice and leaves the reason as typed.
   */
  onDecide(kind: Decision, reason: string | undefined): Promise<DecisionOutcome>;
  /** Called once the decision is told, before the overview refreshes: reload what it changed. */
  onDecided(): void;
  /** Controls shown before the reason, such as a select-all checkbox. */
  children?: ComponentChildren;
}

/** The notice for an outcome: what was done, then each missed proposal with why. */
function notice(o: DecisionOutcome): string {
  const missed = o.missed.map((r) => `${r.id} (${r.reason ?? r.code})`).join(", ");
  return `${o.done}${o.missed.length ? `; ${o.missed.length} ${o.missedAs}: ${missed}` : ""}.`;
}

/**
 * A reason input with Approve and Reject buttons. It owns the reason and the busy state (both
 * buttons are disabled while a decision is on its way, so it is never sent twice), clears the
 * reason after a decision, and refreshes the overview (the pending badge) afterwards.
 */
export function DecisionForm(props: DecisionFormProps) {
  const reason = useSignal("");
  const busy = useSignal(false);
  const ready = props.ready ?? true;
  const decide = async (kind: Decision) => {
    if (!ready) return;
    busy.value = true;
    try {
      const outcome = await props.onDecide(kind, reason.value.trim() || undefined);
      say(notice(outcome), outcome.missed.length ? "error" : "info");
      reason.value = "";
      props.onDecided();
      await refreshOverview();
    } catch (e) {
      say((e as Error).message, "error");
    } finally {
      busy.value = false;
    }
  };
  return (
    <fieldset class={props.card ? "card decide" : "decide"}>
      <legend class="sr-only">{props.legend}</legend>
      {props.children}
      <div class="field grow">
        <label for={props.reasonId}>{props.reasonLabel}</label>
        <input
          id={props.reasonId}
          value={reason.value}
          onInput={(e) => (reason.value = (e.target as HTMLInputElement).value)}
        />
      </div>
      <button type="button" class="primary" disabled={busy.value || !ready} onClick={() => decide("approve")}>
        {props.approveLabel}
      </button>
      <button type="button" class="danger" disabled={busy.value || !ready} onClick={() => decide("reject")}>
        {props.rejectLabel}
      </button>
    </fieldset>
  );
}
