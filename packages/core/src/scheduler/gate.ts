/**
 * Whether this instance may fire now: its lifecycle state, its own pause, and the emergency
 * pause-all switch as last seen. One small object every part reads and only the lifecycle and
 * the controls write, so no part needs the others to ask "may I fire?".
 */

import type { ControlRecord } from "../storage/records.js";
import type { SchedulerState } from "./status.js";

/** The switches that decide whether fires start. */
export class Gate {
  /** The lifecycle state (written by the lifecycle, and by pause/resume between running and paused). */
  state: SchedulerState = "stopped";
  /** This instance's own pause (not persisted). */
  paused = false;
  /** The control record in force (pause-all), as last read or written by this instance. */
  control: ControlRecord = {
    pausedAll: false,
    pausedAt: null,
    pausedBy: null,
    reason: null,
    revision: 0,
  };
  /** Set once stop() passed its deadline: fires not started by then are handed over, not started. */
  stopCutoff = false;

  /** True when due fires may start: running, not paused here, no pause-all. */
  canFire(): boolean {
    return this.state === "running" && !this.paused && !this.control.pausedAll;
  }

  /** True while stopping or stopped: nothing new is claimed. */
  get closing(): boolean {
    return this.state === "stopping" || this.state === "stopped";
  }

  /** True while started (running or paused): storage changes and manual fires are taken. */
  get started(): boolean {
    return this.state === "running" || this.state === "paused";
  }
}
