import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { withRetry } from './retry';

/**
 * A reader of one parameter the peer region publishes (its API URL), read when first needed and
 * kept for the container's life. Read at run time, not deploy time: the primary deploys before
 * the secondary's API exists, and a failover must not depend on reading it from a dead region.
 */
export function peerParameterReader(region: string, name: string): () => Promise<string> {
  // Two attempts: a dead peer region must not hold up the failover that is leaving it.
  const ssm = new SSMClient({ region, maxAttempts: 2 });
  let value: string | undefined;
  return async () => {
    if (value === undefined) {
      const response = await withRetry(`read ${name} in ${region}`, () => ssm.send(new GetParameterCommand({ Name: name })), { attempts: 2 });
      if (!response.Parameter?.Value) throw new Error(`parameter ${name} in ${region} has no value`);
      value = response.Parameter.Value;
    }
    return value;
  };
}
