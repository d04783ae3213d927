/**
 * Settings for SDK clients that call the *other* region. The SDK's Node.js HTTP handler waits
 * forever by default (connectionTimeout and requestTimeout are 0, "no timeout", in
 * @smithy/node-http-handler), so a region that drops packets silently would hold a failover step
 * until its task timeout, and then again on every retry. With these, a silent region fails within
 * seconds and the caller decides what a missing answer means.
 */

/** Timeouts of one cross-region call, in milliseconds. */
export interface CrossRegionTimeouts {
  /** Time to open the TCP and TLS connection. */
  readonly connectionTimeoutMs: number;
  /** Time the socket may stay idle waiting for the response. */
  readonly requestTimeoutMs: number;
}

/**
 * The defaults: AWS API endpoints connect in well under a second from a nearby region and answer
 * control-plane reads within a few; anything slower is treated as "no answer".
 */
export const CROSS_REGION_TIMEOUTS: CrossRegionTimeouts = { connectionTimeoutMs: 1500, requestTimeoutMs: 3000 };

/** Attempts per cross-region call: one retry, then the caller's own handling of a silent region. */
export const CROSS_REGION_ATTEMPTS = 2;

/** Client configuration for an SDK v3 client of `region`, with timeouts on every request. */
export function crossRegionClientConfig(region: string, timeouts: CrossRegionTimeouts = CROSS_REGION_TIMEOUTS, endpoint?: string) {
  return {
    region,
    maxAttempts: CROSS_REGION_ATTEMPTS,
    // The SDK builds its NodeHttpHandler from these options (NodeHttpHandler.create).
    // throwOnRequestTimeout: without it, @smithy/node-http-handler 4.x only logs a warning when
    // requestTimeout passes and keeps waiting.
    requestHandler: { connectionTimeout: timeouts.connectionTimeoutMs, requestTimeout: timeouts.requestTimeoutMs, throwOnRequestTimeout: true },
    ...(endpoint ? { endpoint } : {}),
  };
}

/** The longest one cross-region call can take with these settings (every attempt timing out). */
export function worstCaseCallMs(timeouts: CrossRegionTimeouts = CROSS_REGION_TIMEOUTS): number {
  return CROSS_REGION_ATTEMPTS * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs);
}
