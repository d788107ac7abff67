/**
 * Client order ids on the wire. Alpaca's current spec allows 128 characters, its older docs 48:
 * ids of 48 characters or fewer are safe for every API version, and core's `clientOrderId(...)`
 * makes 35. A longer id (a caller's own) is sent as a deterministic 47-character digest of it,
 * so every retry, restart and takeover sends the same one; the adapter keeps the digest -> id
 * mapping in memory to report the caller's id back, and a lookup by the caller's id re-derives
 * the digest, so finding an order survives a restart without any stored mapping.
 */

import { createHash } from "node:crypto";

/** The longest client order id sent to Alpaca as it is. */
export const MAX_CLIENT_ORDER_ID_LENGTH = 48;

/** Prefix of digests, so they are recognisable in Alpaca's dashboard. */
const DIGEST_PREFIX = "tch-";

/** Printable ASCII without spaces: what Alpaca accepts in an id without surprises. */
const SAFE = /^[\x21-\x7e]+$/;

/** The id Alpaca sees for `clientOrderId`: itself when short and plain, else its digest. */
export function wireClientOrderId(clientOrderId: string): string {
  if (clientOrderId.length <= MAX_CLIENT_ORDER_ID_LENGTH && SAFE.test(clientOrderId)) return clientOrderId;
  const digest = createHash("sha256").update(clientOrderId).digest("base64url");
  return `${DIGEST_PREFIX}${digest}`; // 4 + 43 characters
}

/** Remembers which caller ids were digested, to report them back (bounded: oldest forgotten first). */
export class ClientOrderIds {
  private readonly originals = new Map<string, string>();

  constructor(private readonly capacity = 100_000) {}

  /** The wire id of `clientOrderId`, remembering the mapping when it is a digest. */
  toWire(clientOrderId: string): string {
    const wire = wireClientOrderId(clientOrderId);
    if (wire !== clientOrderId) {
      this.originals.delete(wire);
      this.originals.set(wire, clientOrderId);
      if (this.originals.size > this.capacity) {
        const oldest = this.originals.keys().next().value;
        if (oldest !== undefined) this.originals.delete(oldest);
      }
    }
    return wire;
  }

  /** The caller's id for a wire id (the wire id itself when it was never digested here). */
  fromWire(wire: string): string {
    return this.originals.get(wire) ?? wire;
  }
}
