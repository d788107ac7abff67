/**
 * The emergency pause-all: a button that opens a confirmation dialog (reason, optionally cancel
 * open orders), and the banner shown on every page while it holds, with resume-all.
 */

import { useSignal } from "@preact/signals";
import { useRef } from "preact/hooks";
import { api, unwrap } from "../api.js";
import { canOperate, controls, refreshOverview, say } from "../state.js";
import { Time } from "./bits.js";

/** The red banner on every page while everything is paused. */
export function PauseBanner() {
  const c = controls.value;
  if (!c?.pausedAll) return null;
  const resume = async () => {
    try {
      await api.POST("/controls/resume-all", { body: {} }).then(unwrap);
      say("Pause-all lifted: schedules fire again.");
      await refreshOverview();
    } catch (e) {
      say((e as Error).message, "error");
    }
  };
  return (
    <div class="banner" role="alert">
      <strong>Emergency pause-all is in force.</strong> No schedule fires on any instance.
      {c.reason ? <> Reason: “{c.reason}”.</> : null} By {c.pausedBy ?? "unknown"}, <Time iso={c.pausedAt} />.
      {canOperate.value ? (
        <button type="button" class="banner-action" onClick={resume}>
          Resume all
        </button>
      ) : null}
    </div>
  );
}

/** The pause-all button and its confirmation dialog. */
export function PauseAllButton() {
  const dialog = useRef<HTMLDialogElement>(null);
  const reason = useSignal("");
  const cancelOrders = useSignal(false);
  const busy = useSignal(false);
  if (!canOperate.value || controls.value?.pausedAll) return null;
  const confirm = async (event: Event) => {
    event.preventDefault();
    busy.value = true;
    try {
      const result = await api
        .POST("/controls/pause-all", {
          body: {
            ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
            cancelOpenOrders: cancelOrders.value,
          },
        })
        .then(unwrap);
      dialog.current?.close();
      const n = result.cancelledOrders?.cancelled;
      say(`Everything is paused.${n !== undefined ? ` ${n} open order(s) cancelled.` : ""}`);
      reason.value = "";
      await refreshOverview();
    } catch (e) {
      say((e as Error).message, "error");
    } finally {
      busy.value = false;
    }
  };
  return (
    <>
      <button type="button" class="danger" onClick={() => dialog.current?.showModal()}>
        Pause all
      </button>
      <dialog ref={dialog} aria-labelledby="pause-all-title">
        <form method="dialog" onSubmit={confirm}>
          <h2 id="pause-all-title">Pause every schedule?</h2>
          <p>No schedule fires on any instance until someone resumes. Running handlers finish.</p>
          <label for="pause-reason">Reason (written to the audit log)</label>
          <textarea
            id="pause-reason"
            rows={3}
            required
            value={reason.value}
            onInput={(e) => {
              reason.value = (e.target as HTMLTextAreaElement).value;
            }}
          />
          <label class="check">
            <input
              type="checkbox"
              checked={cancelOrders.value}
              onChange={(e) => {
                cancelOrders.value = (e.target as HTMLInputElement).checked;
              }}
            />
            Also cancel every open order at the broker
          </label>
          <div class="actions">
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" class="danger" disabled={busy.value}>
              Confirm pause all
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
