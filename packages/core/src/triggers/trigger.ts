/** A compiled trigger: the next fire strictly after an instant, as a pure function. */
export interface Trigger {
  /** The first fire instant (epoch ms) strictly after `after`, or null when the trigger is exhausted. */
  next(after: number): number | null;
}
