/**
 * The controls: this instance's own pause, the emergency pause-all every instance sharing the
 * storage obeys (a persisted control record), and the fail-safe: a control record that cannot be
 * read comes up as a pause-all that only a named actor's resumeAll() lifts.
 */

import { z } from "zod";
import { TradecronError, ValidationError } from "../errors.js";
import type { ControlRecord, JsonValue } from "../storage/records.js";
import type { Storage } from "../storage/storage.js";
import { isCorruptRecord, storedControlProblem } from "../storage/stored-records.js";
import type { Clock } from "../time/clock.js";
import type { Trading, TradingNotice } from "../trading/trading.js";
import { parseInput } from "../validation.js";
import type { Gate } from "./gate.js";
import { type ActorOptions, actorOf } from "./inputs.js";
import type { Membership } from "./membership.js";
import type { Registry } from "./registry.js";
import type { Reporter } from "./reporter.js";
import type { Runs } from "./runs.js";
import { FAIL_SAFE_ACTOR, failSafeControl, type TrustReport } from "./trust.js";

/** Options of {@link Controls.pauseAll}. */
export type PauseAllOptions = ActorOptions & {
  reason?: string;
  abortRunning?: boolean;
  cancelOpenOrders?: boolean;
};

const pauseAllSchema = z.strictObject({
  actor: z.string().trim().min(1).max(200).default("system"),
  reason: z.string().max(1000).optional(),
  abortRunning: z.boolean().default(false),
  cancelOpenOrders: z.boolean().default(false),
});

/** What the controls need. */
export interface ControlsDeps {
  storage: Storage;
  clock: Clock;
  reporter: Reporter;
  gate: Gate;
  registry: Registry;
  trust: TrustReport;
  runs: Runs;
  trading: Trading;
  notify(notice: TradingNotice): void;
  /** Left on pause and rejoined on resume, so the others claim this instance's share meanwhile. */
  membership: Membership;
}

/** Pause, pause-all and the control record. */
export class Controls {
  constructor(private readonly deps: ControlsDeps) {}

  /** Pauses this instance (not persisted). */
  pause(): void {
    const { gate } = this.deps;
    if (gate.paused) return;
    gate.paused = true;
    if (gate.state === "running") gate.state = "paused";
    this.deps.registry.disarmAll();
    // A paused instance claims nothing: out of the live list, its share of the fires goes to the
    // others at their instant instead of a step-in late.
    if (gate.state === "paused")
      this.deps.reporter.background(this.deps.membership.leave(), "leaving the cluster (paused)");
    this.deps.reporter.emit("scheduler:paused", { at: this.deps.clock.now() });
  }

  /** Resumes after `pause()`; what fell due meanwhile counts as missed. */
  resume(): void {
    const { gate } = this.deps;
    if (!gate.paused) return;
    gate.paused = false;
    if (gate.state === "paused") {
      gate.state = "running";
      this.deps.membership.rejoin();
      this.deps.reporter.background(this.deps.membership.beat(), "rejoining the cluster");
    }
    this.deps.registry.armAll(true);
    this.deps.reporter.emit("scheduler:resumed", { at: this.deps.clock.now() });
  }

  /** Persists and applies an emergency pause-all (see `Scheduler.pauseAll`). */
  async pauseAll(options: PauseAllOptions): Promise<ControlRecord> {
    const { storage, clock, reporter, trading } = this.deps;
    const o = parseInput(pauseAllSchema, options, "scheduler");
    const control: ControlRecord = {
      pausedAll: true,
      pausedAt: clock.now(),
      pausedBy: o.actor,
      reason: o.reason ?? null,
      revision: await this.nextControlRevision(),
    };
    await storage.setControl(control);
    this.deps.trust.controlProblem = null;
    await reporter.audit(o.actor, "scheduler.pause_all", "scheduler", null, {
      reason: o.reason ?? null,
      abortRunning: o.abortRunning,
    });
    this.apply(control, o.actor);
    if (o.abortRunning) for (const run of this.deps.runs.all()) run.cancel("paused_all");
    let cancelled: { cancelled: number; failed: { id: string; error: string }[] } | null = null;
    if (o.cancelOpenOrders) {
      cancelled = await trading.desk.cancelOpenOrders();
      await reporter.audit(o.actor, "orders.cancel_all", "broker", null, cancelled as unknown as JsonValue);
    }
    this.deps.notify({
      kind: "paused_all",
      severity: "critical",
      subject: `Emergency pause-all by ${o.actor}`,
      body: `Every schedule is paused${o.reason ? `: ${o.reason}` : ""}.${cancelled ? ` ${cancelled.cancelled} open order(s) cancelled${cancelled.failed.length ? `, ${cancelled.failed.length} failed` : ""}.` : ""}`,
      data: { actor: o.actor, reason: o.reason ?? null, cancelledOrders: cancelled?.cancelled ?? null },
    });
    return control;
  }

  /** Persists and applies the end of a pause-all (see `Scheduler.resumeAll`). */
  async resumeAll(options?: ActorOptions): Promise<ControlRecord> {
    const { trust } = this.deps;
    const actor = actorOf(options);
    if (trust.controlProblem !== null && options?.actor === undefined) {
      throw new ValidationError(
        [
          {
            field: "actor",
            code: "VALIDATION",
            message: `the control record could not be read (${trust.controlProblem}): name the actor who lifts the fail-safe pause`,
          },
        ],
        { component: "scheduler" },
      );
    }
    const control: ControlRecord = {
      pausedAll: false,
      pausedAt: null,
      pausedBy: null,
      reason: null,
      revision: await this.nextControlRevision(),
    };
    await this.deps.storage.setControl(control);
    trust.controlProblem = null;
    await this.deps.reporter.audit(actor, "scheduler.resume_all", "scheduler", null, null);
    this.apply(control, actor);
    this.deps.notify({
      kind: "resumed_all",
      severity: "info",
      subject: `Pause-all lifted by ${actor}`,
      body: "Schedules fire again; what was missed follows each schedule's misfire policy.",
      data: { actor },
    });
    return control;
  }

  /** Applies a control record read back, if it differs from the one in force (by revision or switch). */
  changed(control: ControlRecord): void {
    const known = this.deps.gate.control;
    if (control.revision !== known.revision || control.pausedAll !== known.pausedAll) {
      this.apply(control, null);
    }
  }

  private apply(control: ControlRecord, actor: string | null): void {
    const { gate, registry, reporter, clock } = this.deps;
    const was = gate.control.pausedAll;
    gate.control = control;
    if (control.pausedAll && !was) {
      registry.disarmAll();
      reporter.emit("scheduler:paused-all", {
        at: control.pausedAt ?? clock.now(),
        actor: actor ?? control.pausedBy ?? "unknown",
        reason: control.reason,
      });
    } else if (!control.pausedAll && was) {
      registry.armAll(true);
      reporter.emit("scheduler:resumed-all", { at: clock.now(), actor: actor ?? "unknown" });
    }
  }

  /**
   * Reads the control record, failing safe: one that cannot be read (the storage says so, or it
   * fails the checks) comes up as an emergency pause-all that only an actor's resumeAll() lifts.
   */
  async read(): Promise<ControlRecord> {
    let control: ControlRecord;
    try {
      control = await this.deps.storage.getControl();
    } catch (error) {
      if (!isCorruptRecord(error)) throw error;
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      return this.failSafe(typeof reason === "string" ? reason : error.message);
    }
    const problem = storedControlProblem(control);
    if (problem !== null) return this.failSafe(problem);
    this.deps.trust.controlProblem = null;
    return control;
  }

  private failSafe(problem: string): ControlRecord {
    const { trust, reporter } = this.deps;
    const news = trust.controlProblem !== problem;
    trust.controlProblem = problem;
    if (news) {
      reporter.reportError(
        new TradecronError("STORAGE_CORRUPT", `the control record cannot be read: ${problem}`, {
          details: { reason: problem },
        }),
        "reading the control record (every schedule stays paused)",
      );
      this.deps.notify({
        kind: "paused_all",
        severity: "critical",
        subject: "Control record unreadable: every schedule is paused",
        body: `The stored control record cannot be read (${problem}). tradecron fails safe: nothing fires until an actor calls resumeAll().`,
        data: { actor: FAIL_SAFE_ACTOR, reason: problem, cancelledOrders: null },
      });
    }
    return failSafeControl(this.deps.gate.control, problem, this.deps.clock.now());
  }

  /** The revision a new control record takes: past both the stored one (if readable) and the last seen. */
  private async nextControlRevision(): Promise<number> {
    let stored = -1;
    try {
      stored = (await this.deps.storage.getControl()).revision;
    } catch (error) {
      if (!isCorruptRecord(error)) throw error;
    }
    const known = Number.isInteger(stored) && stored >= 0 ? stored : -1;
    return Math.max(known, this.deps.gate.control.revision) + 1;
  }
}
