/**
 * What the adapter knows about its connection, in core's {@link BrokerConnectionDetail} terms:
 * `rest` is the API socket to TWS, `stream` TWS's own link to IB's servers (the one TWS reports
 * with 1100/1101/1102/2110), and the data farms TWS reports as informational notices.
 *
 * Farm notices (2103-2108, 2157/2158) never change whether orders can be placed: a broken market
 * data farm stops quotes, not orders, and TWS reconnects farms on its own. They are kept so a
 * health page or a log can say which farm is down.
 */

import type { BrokerChannelHealth, BrokerConnectionDetail } from "@tradecron/core";

/** TWS's link to IB: up, lost (1100), broken (2110), or restored with data lost and being re-read (1101). */
export type LinkState = "linked" | "lost" | "broken" | "resyncing";

/** A data farm TWS reported on. */
export interface FarmStatus {
  /** The farm's name from TWS's message (`usfarm`, `ushmds`, `secdefnj`). */
  name: string;
  kind: "market data" | "historical data" | "security definitions";
  /** False while TWS says the farm's connection is broken. */
  ok: boolean;
  /** The last notice's code and message. */
  code: number;
  message: string;
  /** Epoch ms of the notice. */
  at: number;
}

/** {@link BrokerConnectionDetail} with the data farms TWS reported. */
export interface IbkrConnectionDetail extends BrokerConnectionDetail {
  rest: BrokerChannelHealth;
  stream: BrokerChannelHealth;
  /** The farms TWS reported on this session, by name (empty before the first notice). */
  farms: FarmStatus[];
}

/** Farm notices: code, the kind of farm, and whether it means the farm works. */
const FARM_CODES: Record<number, { kind: FarmStatus["kind"]; ok: boolean }> = {
  2103: { kind: "market data", ok: false }, // "Market data farm connection is broken:usfarm"
  2104: { kind: "market data", ok: true }, // "Market data farm connection is OK:usfarm"
  2105: { kind: "historical data", ok: false }, // "HMDS data farm connection is broken:ushmds"
  2106: { kind: "historical data", ok: true }, // "HMDS data farm connection is OK:ushmds"
  2107: { kind: "historical data", ok: true }, // "... inactive but should be available upon demand"
  2108: { kind: "market data", ok: true }, // "... inactive but should be available upon demand"
  2157: { kind: "security definitions", ok: false }, // "Sec-def data farm connection is broken:secdefil"
  2158: { kind: "security definitions", ok: true }, // "Sec-def data farm connection is OK:secdefnj"
};

/** Whether `code` is a data farm notice. */
export function isFarmNotice(code: number): boolean {
  return code in FARM_CODES;
}

/** The farms of one session, as TWS last reported them. */
export class FarmBoard {
  private readonly farms = new Map<string, FarmStatus>();

  /** Records a farm notice; returns the farm's new status, or null if `code` is not a farm notice. */
  apply(code: number, message: string, at: number): FarmStatus | null {
    const known = FARM_CODES[code];
    if (!known) return null;
    // TWS names the farm after the last colon; a message without one still counts, under its kind.
    const colon = message.lastIndexOf(":");
    const name = colon >= 0 && colon < message.length - 1 ? message.slice(colon + 1).trim() : known.kind;
    const status: FarmStatus = { name, kind: known.kind, ok: known.ok, code, message, at };
    this.farms.set(name, status);
    return status;
  }

  /** Every farm reported, sorted by name. */
  list(): FarmStatus[] {
    return [...this.farms.values()].sort((a, b) => a.name.localeCompare(b.name)).map((f) => ({ ...f }));
  }

  /** A new session starts with no farm known. */
  clear(): void {
    this.farms.clear();
  }
}
