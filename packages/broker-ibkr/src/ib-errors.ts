/**
 * IB's error codes, sorted into what they mean for a caller: a final rejection, a transient
 * outage, throttling, a connectivity notice, or noise. The code and IB's message always travel in
 * the error's `details` (`ibCode`, `ibMessage`), so nothing IB said is lost in translation.
 */

import {
  BrokerRateLimitedError,
  BrokerRejectedError,
  BrokerUnavailableError,
  TradecronError,
  type TradecronErrorOptions,
} from "@tradecron/core";

/** Connectivity notices TWS sends on request id -1 (they arrive on the client's `info` event). */
export const CONNECTIVITY = {
  /** TWS lost its connection to IB's servers. */
  LOST: 1100,
  /** Restored, but market data and order state sent meanwhile were lost: reconcile. */
  RESTORED_DATA_LOST: 1101,
  /** Restored with data maintained. */
  RESTORED: 1102,
  /** The TWS-to-server link is broken; it will be restored automatically. */
  BROKEN: 2110,
} as const;

/** "Max rate of messages per second has been exceeded". */
export const PACING_VIOLATION = 100;
/** "Duplicate order id": the id was used before; placement did not happen. */
export const DUPLICATE_ORDER_ID = 103;
/** "Unable to connect as the client id is already in use". */
export const CLIENT_ID_IN_USE = 326;
/** "Order Canceled - reason:": the confirmation of a cancel. */
export const ORDER_CANCELED = 202;
/** "OrderId ... that needs to be cancelled is not found". */
export const CANCEL_NOT_FOUND = 10147;
/** "OrderId ... that needs to be cancelled cannot be cancelled, state: ...". */
export const CANCEL_NOT_CANCELLABLE = 10148;

/** How long to wait after a pacing violation: IB counts messages per second. */
export const PACING_RETRY_AFTER_MS = 1_000;

/**
 * Codes that say the request could not be served right now (the socket, TWS's link to IB, a
 * server-side limit): retry later. Everything in 500-599 is the client library's own
 * connection errors.
 */
const TRANSIENT = new Set([
  322, // error processing request (e.g. too many account summaries at once)
  326, // client id in use (a previous connection of ours not yet released)
  1100,
  1300, // TWS socket port reset
  2110,
  10182, // failed to request live updates (disconnected)
]);

/** Informational codes: warnings and farm-status notices, never a failure of a request. */
export function isInformational(code: number): boolean {
  return (code >= 2100 && code <= 2199) || code === 399 || code === 10167 || code === 10090 || code === 492;
}

/** Whether a code means a transient failure (retry later) rather than a final answer. */
export function isTransient(code: number): boolean {
  return TRANSIENT.has(code) || (code >= 500 && code <= 599) || (code >= 1000 && code < 2000);
}

/** What IB said, for `details`. */
export interface IbErrorInfo {
  code: number;
  message: string;
  reqId: number;
  advancedOrderReject?: unknown;
}

function details(info: IbErrorInfo, extra: Record<string, unknown>): TradecronErrorOptions {
  return {
    details: {
      ibCode: info.code,
      ibMessage: info.message,
      ...(info.reqId >= 0 ? { reqId: info.reqId } : {}),
      ...(info.advancedOrderReject === undefined ? {} : { advancedOrderReject: info.advancedOrderReject }),
      ...extra,
    },
  };
}

/** Maps an IB error to core's typed errors: rate limited, unavailable (retryable) or rejected (final). */
export function toBrokerError(
  info: IbErrorInfo,
  what: string,
  extra: Record<string, unknown> = {},
): TradecronError {
  const text = `IbkrBroker: ${what}: IB error ${info.code}: ${info.message}`;
  if (info.code === PACING_VIOLATION) {
    return new BrokerRateLimitedError(text, PACING_RETRY_AFTER_MS, details(info, extra));
  }
  if (isTransient(info.code)) return new BrokerUnavailableError(text, details(info, extra));
  return new BrokerRejectedError(text, details(info, extra));
}

/**
 * A configuration the connection cannot fix by retrying: the account is not one of the login's,
 * or several are managed and none was chosen. Not retried; fix the options.
 */
export class IbkrConfigError extends TradecronError {
  readonly retryable = false;
  constructor(message: string, options: TradecronErrorOptions = {}) {
    super("BROKER_NOT_CONFIGURED", message, options);
  }
}

/** The connection is gone or not ready (retryable). */
export function unavailable(
  what: string,
  reason: string,
  extra: Record<string, unknown> = {},
): BrokerUnavailableError {
  return new BrokerUnavailableError(`IbkrBroker: ${what}: ${reason}`, { details: extra });
}
