/**
 * Execution ids: UUID-shaped (version 4, variant 1) strings made of a random 72-bit prefix drawn
 * once per process (and again every 2^48 ids) and a counter in the last 48 bits. Unique across
 * instances as long as no two processes draw the same prefix: about 1 in 10^10 even for a
 * million processes sharing one storage. Ids from one process sort in the order they were made,
 * which keeps the indexes of the SQL storages from scattering their inserts.
 *
 * Why not `crypto.randomUUID()` per fire: it builds its string from twenty pieces, about 600
 * bytes of garbage a fire and the largest single allocation of a burst (the `uuid` package's v4
 * and v7 stringify the same way).
 */

const COUNTER_SPAN = 2 ** 48;

let prefix = "";
let counter = COUNTER_SPAN;

/** A new execution id. */
export function newExecutionId(): string {
  if (counter >= COUNTER_SPAN) {
    // "xxxxxxxx-xxxx-4xxx-yxxx-": a random UUID's first four groups keep its version and variant.
    prefix = crypto.randomUUID().slice(0, 24);
    counter = 0;
  }
  const n = counter++;
  return prefix + n.toString(16).padStart(12, "0");
}
