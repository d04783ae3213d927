import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { crossRegionClientConfig } from '../shared/cross-region';
import { createLogger } from '../shared/logger';
import type { SwitchRef } from '../contracts/switches';
import { PASS_RESERVE_MS, SWITCH_KEEPER } from '../contracts/switch-keeper';
import { keepSwitch, type KeeperOutcome } from './keeper';

const environment = SWITCH_KEEPER.environment.read();

const logger = createLogger(SWITCH_KEEPER.service);
// Both calls go to this region, but the SDK waits forever by default; with these timeouts a hung
// call fails within seconds and the run's next pass still publishes.
const ssm = new SSMClient(crossRegionClientConfig(environment.AWS_REGION));
const cloudwatch = new CloudWatchClient(crossRegionClientConfig(environment.AWS_REGION));
const ref: SwitchRef = {
  evacuatedRegion: environment.EVACUATED_REGION,
  hostRegion: environment.AWS_REGION,
  parameterName: environment.SWITCH_PARAMETER,
  namespace: environment.METRIC_NAMESPACE,
  metricName: environment.METRIC_NAME,
};
logger.appendKeys({ evacuatedRegion: ref.evacuatedRegion });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs every minute: republishes the switch's position several times within the minute. */
export async function handler(_event: unknown, context: Context): Promise<KeeperOutcome> {
  logger.addContext(context);
  return keepSwitch({
    ssm,
    cloudwatch,
    ref,
    publishesPerMinute: environment.PUBLISHES_PER_MINUTE,
    reserveMs: PASS_RESERVE_MS,
    now: () => Date.now(),
    sleep,
    remainingMs: () => context.getRemainingTimeInMillis(),
    logger,
  });
}
