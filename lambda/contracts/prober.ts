import { PEER_VARIABLES } from './common';
import { arn, defineEnvironment, flag, FunctionContract, integer, parameterName, text } from './environment';

/** The failover prober: lib/failover/failover-prober.ts deploys lambda/prober. */
export const PROBER = {
  codeFolder: 'prober',
  service: 'failover-prober',
  environment: defineEnvironment({
    ...PEER_VARIABLES,
    OWN_STATE_MACHINE_ARN: arn(),
    PEER_STATE_MACHINE_ARN: arn(),
    ALERT_TOPIC_ARN: arn(),
    FAILURE_THRESHOLD: integer(1),
    MINIMUM_OUTAGE_SECONDS: integer(0),
    RESTART_AFTER_SECONDS: integer(1),
    API_HOST_NAME: text(),
    OWN_API_TARGET: text(),
    SWITCH_PARAMETER: parameterName(),
    METRIC_NAMESPACE: text(),
    EVACUATION_METRIC_NAME: text(),
    AUTO_FAILBACK: flag(),
    FAILBACK_AFTER_HEALTHY_SECONDS: integer(1),
    PROBE_INTERVAL_SECONDS: integer(1),
  }),
} satisfies FunctionContract;

/** The prober's metrics (in METRIC_NAMESPACE). */
export const PROBER_METRICS = {
  /** 1 from the region the control table names active (dimension `Region`). */
  activeRegion: 'ActiveRegion',
} as const;
