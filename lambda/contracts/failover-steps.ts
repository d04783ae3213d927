import { PEER_VARIABLES } from './common';
import { arn, defineEnvironment, flag, FunctionContract, integer, parameterName, text, url } from './environment';

/** The failover state machine's steps: lib/failover/failover-orchestrator.ts deploys lambda/failover-steps. */
export const FAILOVER_STEPS = {
  codeFolder: 'failover-steps',
  service: 'failover-steps',
  environment: defineEnvironment({
    ...PEER_VARIABLES,
    OWN_API_URL: url(),
    API_HOST_NAME: text(),
    OWN_API_TARGET: text(),
    DB_CLUSTER_ID: text(),
    METRIC_NAMESPACE: text(),
    EVACUATION_METRIC_NAME: text(),
    SWITCH_PARAMETER: parameterName(),
    GLOBAL_CLUSTER_ID: text(),
    OWN_CLUSTER_ARN: arn(),
    REQUIRE_DATA_LOSS_APPROVAL: flag(),
    LOCK_SECONDS: integer(1),
    VALIDATION_TIMEOUT_SECONDS: integer(1),
    POLL_MS: integer(100),
  }),
} satisfies FunctionContract;

/** The steps' metrics (in METRIC_NAMESPACE), shared with the alarms and the dashboard. */
export const FAILOVER_METRICS = {
  /** A run's whole duration, recorded at its end. */
  duration: 'FailoverDuration',
  /** Each step's duration (dimension `Step`). */
  stepDuration: 'FailoverStepDuration',
} as const;
