import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CROSS_REGION_TIMEOUTS, crossRegionClientConfig, CrossRegionTimeouts } from './cross-region';
import { withRetry } from './retry';

/**
 * A reader of one parameter the peer region publishes (its API URL), read when first needed and
 * kept for the container's life. Read at run time, not deploy time: the primary deploys before
 * the secondary's API exists, and a failover must not depend on reading it from a dead region.
 * The client has connection and request timeouts, so a silent peer fails within seconds.
 */
export function peerParameterReader(
  region: string,
  name: string,
  timeouts: CrossRegionTimeouts = CROSS_REGION_TIMEOUTS,
  endpoint?: string,
): () => Promise<string> {
  const ssm = new SSMClient(crossRegionClientConfig(region, timeouts, endpoint));
  let value: string | undefined;
  return async () => {
    if (value === undefined) {
      // The client retries once itself; no second loop here, a dead peer must not hold up the failover leaving it.
      const response = await withRetry(`read ${name} in ${region}`, () => ssm.send(new GetParameterCommand({ Name: name })), { attempts: 1 });
      if (!response.Parameter?.Value) throw new Error(`parameter ${name} in ${region} has no value`);
      value = response.Parameter.Value;
    }
    return value;
  };
}
