/** Helpers to observe scheduler events in tests. */

import type { EventEmitter } from "eventemitter3";
import type { SchedulerEventMap, SchedulerEventName, SchedulerEvents } from "../events.js";

/** Records every event of the given names, in order. */
export class EventRecorder {
  /** All recorded events, in order. */
  readonly events: { name: SchedulerEventName; payload: unknown }[] = [];
  private readonly offs: (() => void)[] = [];

  constructor(emitter: EventEmitter<SchedulerEventMap>, names: readonly SchedulerEventName[]) {
    for (const name of names) {
      const fn = (payload: unknown) => this.events.push({ name, payload });
      emitter.on(name, fn as never);
      this.offs.push(() => emitter.off(name, fn as never));
    }
  }

  /** Payloads of one event name, in order. */
  of<K extends SchedulerEventName>(name: K): SchedulerEvents[K][] {
    return this.events.filter((e) => e.name === name).map((e) => e.payload as SchedulerEvents[K]);
  }

  /** Event names in order (handy for asserting sequences). */
  names(): SchedulerEventName[] {
    return this.events.map((e) => e.name);
  }

  /** Stops recording. */
  dispose(): void {
    for (const off of this.offs) off();
  }
}
