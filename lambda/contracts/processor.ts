import { CONTROL_VARIABLES, DATABASE_VARIABLES } from './common';
import { defineEnvironment, FunctionContract, integer } from './environment';

/** The order processor (SQS): lib/order-path/order-processing.ts deploys lambda/processor. */
export const PROCESSOR = {
  codeFolder: 'processor',
  service: 'order-processor',
  environment: defineEnvironment({
    ...DATABASE_VARIABLES,
    ...CONTROL_VARIABLES,
    DB_POOL_SIZE: integer(1),
  }),
} satisfies FunctionContract;

/** The processor's metrics, by outcome (service `order-processor`), shared with the dashboard and alarms. */
export const PROCESSOR_METRICS = {
  committed: 'OrdersCommitted',
  deferred: 'OrdersDeferredToActiveRegion',
  unconfirmed: 'OrdersCommittedUnderOldEpoch',
  conflict: 'OrderConflicts',
  poison: 'PoisonMessages',
  failed: 'OrderCommitFailures',
} as const;
