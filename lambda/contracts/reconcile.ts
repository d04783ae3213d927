import { CONTROL_VARIABLES, DATABASE_VARIABLES } from './common';
import { defineEnvironment, FunctionContract, integer } from './environment';

/** Journal reconciliation (schedule and failover): lib/failover/failover-orchestrator.ts deploys lambda/reconcile. */
export const RECONCILE = {
  codeFolder: 'reconcile',
  service: 'failover-reconcile',
  environment: defineEnvironment({
    ...DATABASE_VARIABLES,
    ...CONTROL_VARIABLES,
    PENDING_SHARDS: integer(1),
    DB_POOL_SIZE: integer(1),
    DURABLE_AFTER_SECONDS: integer(1),
    REPLICATION_MARGIN_SECONDS: integer(1),
    ORDER_BOUND_SECONDS: integer(1),
  }),
} satisfies FunctionContract;

/** Reconciliation's metrics (service `failover-reconcile`), shared with the alarms that watch them. */
export const RECONCILE_METRICS = {
  /** Journal orders a run committed that the processor had not. */
  applied: 'OrdersReconciled',
  /** Entries acknowledged longer ago than the bound and not in the writer when the run looked. */
  overdue: 'OrdersOverdue',
  /** Entries whose key another stored order holds (an operator decides). */
  conflicts: 'OrderConflictsPending',
  /** Entries the writer refused to commit even alone (they stay pending; past the bound they count as overdue too, which alarms). */
  notCommitted: 'OrdersNotCommitted',
  /** Entries kept pending because the writer's replication status did not show them in the secondary (or could not be read). */
  awaitingReplication: 'OrdersAwaitingReplication',
  /** Runs that stopped before reading every shard (time ran out, or the epoch moved). */
  incomplete: 'ReconcileIncomplete',
} as const;
